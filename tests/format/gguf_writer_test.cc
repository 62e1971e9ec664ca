#include "format/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/testdata.h"
#include "core/error.h"
#include "core/half.h"
#include "format/gguf.h"

namespace llmnpu {
namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

GgufValue scalar(GgufType type, int64_t i, uint64_t u, double f) {
  GgufValue v;
  v.type = type;
  v.i = i;
  v.u = u;
  v.f = f;
  return v;
}

TEST(GgufWriter, RoundTripsEveryMetadataType) {
  GgufWriter w;
  w.set("u8", scalar(GgufType::UINT8, 0, 200, 0));
  w.set("i8", scalar(GgufType::INT8, -100, 0, 0));
  w.set("u16", scalar(GgufType::UINT16, 0, 60000, 0));
  w.set("i16", scalar(GgufType::INT16, -30000, 0, 0));
  w.set("u32", GgufValue::of_u32(4000000000u));
  w.set("i32", GgufValue::of_i32(-2000000000));
  w.set("u64", GgufValue::of_u64(uint64_t(1) << 63));
  w.set("i64", scalar(GgufType::INT64, -(int64_t(1) << 62), 0, 0));
  w.set("f32", GgufValue::of_f32(1.5f));
  w.set("f64", scalar(GgufType::FLOAT64, 0, 0, 0.1));
  w.set("bool", GgufValue::of_bool(true));
  w.set("str", GgufValue::of_string("héllo\n"));
  w.set("strs", GgufValue::of_strings({"a", "", "ccc"}));
  w.set("ints", GgufValue::of_i32s({1, -2, 3}));
  w.set("floats", GgufValue::of_f32s({0.25f, -8.0f}));
  GgufValue nested;
  nested.type = GgufType::ARRAY;
  nested.elem_type = GgufType::ARRAY;
  nested.array = {GgufValue::of_i32s({7}), GgufValue::of_i32s({8, 9})};
  w.set("nested", nested);
  w.set("u32", GgufValue::of_u32(5));  // replacing keeps one key
  const std::string path = test::temp_dir() + "/meta.gguf";
  w.write(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  GgufFile f(path);
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 16u);
  EXPECT_EQ(f.metadata()[0].first, "u8");
  EXPECT_EQ(f.get("u8").u, 200u);
  EXPECT_EQ(f.get("i8").i, -100);
  EXPECT_EQ(f.get("u16").u, 60000u);
  EXPECT_EQ(f.get("i16").i, -30000);
  EXPECT_EQ(f.get("u32").u, 5u);
  EXPECT_EQ(f.get("i32").i, -2000000000);
  EXPECT_EQ(f.get("u64").u, uint64_t(1) << 63);
  EXPECT_EQ(f.get("i64").i, -(int64_t(1) << 62));
  EXPECT_EQ(f.get("f32").f, 1.5);
  EXPECT_EQ(f.get("f64").f, 0.1);
  EXPECT_EQ(f.get("f64").type, GgufType::FLOAT64);
  EXPECT_TRUE(f.get("bool").as_bool());
  EXPECT_EQ(f.get("str").as_string(), "héllo\n");
  EXPECT_EQ(f.get("strs").as_strings(), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.get("ints").as_ints(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(f.get("floats").as_floats(), (std::vector<float>{0.25f, -8.0f}));
  ASSERT_EQ(f.get("nested").array.size(), 2u);
  EXPECT_EQ(f.get("nested").array[1].as_ints(), (std::vector<int64_t>{8, 9}));
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufWriter, RoundTripsTensorsWithAlignment) {
  std::vector<float> a(3 * 5);
  for (size_t k = 0; k < a.size(); ++k) a[k] = float(k) * 0.5f - 3;
  std::vector<int32_t> ints = {1, -7, 1 << 30};
  std::vector<int8_t> bytes = {-128, 0, 127};
  std::vector<float> q(64);
  for (size_t k = 0; k < q.size(); ++k) q[k] = float(k % 17) - 8;
  for (size_t align : {32u, 64u}) {
    GgufWriter w;
    if (align != 32) w.set("general.alignment", GgufValue::of_u32(uint32_t(align)));
    w.add_tensor("a", GgmlType::F32, {5, 3}, a.data(), a.size() * 4);
    w.add_tensor_owned("h", GgmlType::F16, {5, 3}, encode_f16(a.data(), a.size()));
    w.add_tensor_owned("b", GgmlType::BF16, {15}, encode_bf16(a.data(), a.size()));
    w.add_tensor("i", GgmlType::I32, {3}, ints.data(), 12);
    w.add_tensor("c", GgmlType::I8, {3}, bytes.data(), 3);
    w.add_tensor_owned("q", GgmlType::Q8_0, {32, 2}, encode_q8_0(q.data(), q.size()));
    const std::string path = test::temp_dir() + "/tensors.gguf";
    w.write(path);
    GgufFile f(path);
    EXPECT_EQ(f.alignment(), align);
    ASSERT_EQ(f.tensors().size(), 6u);
    for (const auto& t : f.tensors()) {
      EXPECT_EQ(t.offset % align, 0u) << t.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % align, 0u) << t.name;
    }
    const GgufTensor& ta = f.tensor("a");
    EXPECT_EQ(ta.dims, (std::vector<uint64_t>{5, 3}));
    EXPECT_EQ(ta.shape(), (std::vector<uint64_t>{3, 5}));
    EXPECT_EQ(std::memcmp(ta.data, a.data(), a.size() * 4), 0);
    std::vector<float> back(a.size());
    ggml_to_float(GgmlType::F16, f.tensor("h").data, back.data(), back.size());
    EXPECT_EQ(back, a);  // these values are exact in half precision
    ggml_to_float(GgmlType::BF16, f.tensor("b").data, back.data(), back.size());
    EXPECT_EQ(back, a);
    EXPECT_EQ(std::memcmp(f.tensor("i").data, ints.data(), 12), 0);
    EXPECT_EQ(std::memcmp(f.tensor("c").data, bytes.data(), 3), 0);
    std::vector<float> qback(64);
    ggml_to_float(GgmlType::Q8_0, f.tensor("q").data, qback.data(), 64);
    for (size_t k = 0; k < 64; ++k) EXPECT_NEAR(qback[k], q[k], 8.0 / 127 / 2 + 1e-3) << k;
  }
}

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  std::vector<float> a(4);
  EXPECT_THROW(w.add_tensor("x", GgmlType::F32, {3}, a.data(), 16), Error);              // size mismatch
  EXPECT_THROW(w.add_tensor("x", GgmlType::Q8_0, {4}, a.data(), 16), Error);             // not whole blocks
  EXPECT_THROW(w.add_tensor("x", GgmlType::F32, {1, 1, 1, 1, 4}, a.data(), 16), Error);  // rank 5
  w.add_tensor("x", GgmlType::F32, {4}, a.data(), 16);
  EXPECT_THROW(w.add_tensor("x", GgmlType::F32, {4}, a.data(), 16), Error);  // duplicate
  w.set("general.alignment", GgufValue::of_u32(48));
  EXPECT_THROW(w.write(test::temp_dir() + "/bad-align.gguf"), Error);
  EXPECT_THROW(encode_q8_0(a.data(), 4), Error);
}

// Produced tensors are made while the file is written; a producer that fails or returns the wrong size
// leaves no file behind.
TEST(GgufWriter, ProducedTensorsAreWrittenInPlaceAndFailuresLeaveNoFile) {
  std::vector<float> a(6);
  for (size_t k = 0; k < a.size(); ++k) a[k] = float(k) - 2.5f;
  const std::string path = test::temp_dir() + "/produced.gguf";
  int produced = 0;
  {
    GgufWriter w;
    w.add_tensor("first", GgmlType::F32, {6}, a.data(), 24);
    w.add_tensor_produced("made", GgmlType::F16, {3, 2}, 12, [&](const GgufWriter::PieceWriter& write) {
      ++produced;
      const std::vector<uint8_t> bytes = encode_f16(a.data(), a.size());
      write(bytes.data(), 5);  // in pieces of any size
      write(bytes.data() + 5, 7);
    });
    w.add_tensor("last", GgmlType::F32, {2}, a.data(), 8);
    EXPECT_EQ(produced, 0);  // nothing is made before write()
    w.write(path);
    EXPECT_EQ(produced, 1);
    GgufFile f(path);
    std::vector<float> back(6);
    ggml_to_float(GgmlType::F16, f.tensor("made").data, back.data(), back.size());
    EXPECT_EQ(back, a);
    EXPECT_EQ(std::memcmp(f.tensor("last").data, a.data(), 8), 0);
  }
  std::filesystem::remove(path);
  GgufWriter wrong_size;
  const std::vector<uint8_t> twelve(12), twenty(20);
  wrong_size.add_tensor_produced("t", GgmlType::F32, {4}, 16,
                                 [&](const GgufWriter::PieceWriter& write) { write(twelve.data(), 12); });
  EXPECT_THROW(wrong_size.write(path), Error);
  GgufWriter too_long;
  too_long.add_tensor_produced("t", GgmlType::F32, {4}, 16,
                               [&](const GgufWriter::PieceWriter& write) { write(twenty.data(), 20); });
  EXPECT_THROW(too_long.write(path), Error);
  GgufWriter failing;
  failing.add_tensor_produced("t", GgmlType::F32, {4}, 16,
                              [](const GgufWriter::PieceWriter&) { fail("no data"); });
  EXPECT_THROW(failing.write(path), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THROW(
      failing.add_tensor_produced("u", GgmlType::F32, {4}, 12, [](const GgufWriter::PieceWriter&) {}),
      Error);  // the size the type and dims imply is checked up front
}

TEST(GgufWriter, Q8_0MatchesReferenceRounding) {
  std::vector<float> x(32);
  for (int k = 0; k < 32; ++k) x[size_t(k)] = float(k - 16) / 4.0f;  // amax 4 at k=0
  auto enc = encode_q8_0(x.data(), 32);
  uint16_t h;
  std::memcpy(&h, enc.data(), 2);
  EXPECT_EQ(h, float_to_half(4.0f / 127.0f));
  EXPECT_EQ(int8_t(enc[2]), -127);
  EXPECT_EQ(int8_t(enc[2 + 16]), 0);
  EXPECT_EQ(int8_t(enc[2 + 18]), 16);  // 0.5 / (4/127) = 15.875 -> 16
}

// A small valid file whose fields the hostile tests below corrupt one at a time.
struct Sample {
  std::string bytes;
  size_t n_tensors_at = 8, tensor_rank_at = 0, tensor_dims_at = 0, tensor_type_at = 0, tensor_offset_at = 0;
  size_t key_type_at = 0, string_len_at = 0;
};

Sample make_sample() {
  GgufWriter w;
  w.set("general.name", GgufValue::of_string("sample"));
  w.set("some.int", GgufValue::of_u32(7));
  std::vector<float> data(8 * 4, 1.0f);
  w.add_tensor("weight_tensor", GgmlType::F32, {8, 4}, data.data(), data.size() * 4);
  const std::string path = test::temp_dir() + "/sample.gguf";
  w.write(path);
  Sample s;
  s.bytes = read_bytes(path);
  size_t key = s.bytes.find("general.name");
  s.key_type_at = key + 12;
  s.string_len_at = key + 12 + 4;
  size_t name = s.bytes.find("weight_tensor");
  s.tensor_rank_at = name + 13;
  s.tensor_dims_at = name + 13 + 4;
  s.tensor_type_at = s.tensor_dims_at + 16;
  s.tensor_offset_at = s.tensor_type_at + 4;
  return s;
}

template <typename T>
std::string with(std::string bytes, size_t at, T value) {
  std::memcpy(bytes.data() + at, &value, sizeof(T));
  return bytes;
}

void expect_error(const std::string& bytes, const char* what) {
  const std::string path = test::temp_dir() + "/hostile.gguf";
  write_bytes(path, bytes);
  try {
    GgufFile f(path);
    ADD_FAILURE() << what << ": no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hostile.gguf"), std::string::npos) << e.what();
  }
}

TEST(GgufHostile, SampleIsValid) {
  const Sample s = make_sample();
  const std::string path = test::temp_dir() + "/valid.gguf";
  write_bytes(path, s.bytes);
  GgufFile f(path);
  EXPECT_EQ(f.tensor("weight_tensor").dims, (std::vector<uint64_t>{8, 4}));
  EXPECT_EQ(f.get("general.name").as_string(), "sample");
}

TEST(GgufHostile, CorruptFieldsGiveErrors) {
  const Sample s = make_sample();
  expect_error(with<uint64_t>(s.bytes, s.tensor_offset_at, uint64_t(1) << 40), "offset past end");
  expect_error(with<uint64_t>(s.bytes, s.tensor_offset_at, 32), "offset past end by one block");
  expect_error(with<uint64_t>(s.bytes, s.tensor_offset_at, 4), "misaligned offset");
  expect_error(with<uint64_t>(s.bytes, s.tensor_dims_at, uint64_t(1) << 62), "absurd dim");
  expect_error(with<uint64_t>(with<uint64_t>(s.bytes, s.tensor_dims_at, uint64_t(1) << 32),
                              s.tensor_dims_at + 8, uint64_t(1) << 32),
               "dims whose product wraps");
  expect_error(with<uint64_t>(s.bytes, s.tensor_dims_at, 0), "zero dim");
  expect_error(with<uint32_t>(s.bytes, s.tensor_rank_at, 0), "rank 0");
  expect_error(with<uint32_t>(s.bytes, s.tensor_rank_at, 1000), "rank 1000");
  expect_error(with<uint32_t>(s.bytes, s.tensor_type_at, 99), "unknown tensor type");
  expect_error(with<uint32_t>(s.bytes, s.key_type_at, 77), "unknown value type");
  expect_error(with<uint64_t>(s.bytes, s.string_len_at, uint64_t(1) << 60), "huge string length");
  expect_error(with<uint64_t>(s.bytes, s.string_len_at, 1000), "string length past the end");
  expect_error(with<uint64_t>(s.bytes, s.n_tensors_at, uint64_t(1) << 40), "absurd tensor count");
  expect_error(with<uint64_t>(s.bytes, s.n_tensors_at, 2), "tensor count larger than listed");
  expect_error(with<uint64_t>(s.bytes, s.n_tensors_at + 8, uint64_t(1) << 50), "absurd metadata count");
  expect_error(with<uint64_t>(s.bytes, s.n_tensors_at + 8, 3), "metadata count larger than listed");
  expect_error(s.bytes.substr(0, s.bytes.size() - 1), "data truncated by one byte");
}

TEST(GgufHostile, EverySingleByteCorruptionIsHandled) {
  // Flip each header byte to 0xff and to 0x00: the parser may accept or reject, but must not crash.
  const Sample s = make_sample();
  const size_t header_end = s.tensor_offset_at + 8;
  const std::string path = test::temp_dir() + "/flip.gguf";
  int rejected = 0;
  for (size_t at = 0; at < header_end; ++at)
    for (char value : {char(0xff), char(0)}) {
      std::string bytes = s.bytes;
      if (bytes[at] == value) continue;
      bytes[at] = value;
      write_bytes(path, bytes);
      try {
        GgufFile f(path);
        for (const auto& t : f.tensors()) EXPECT_LE(t.data + t.nbytes, f.tensors()[0].data + f.file_size());
      } catch (const Error&) {
        ++rejected;
      }
    }
  EXPECT_GT(rejected, 50);
}

}  // namespace
}  // namespace llmnpu
