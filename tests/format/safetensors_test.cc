#include "format/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/testdata.h"
#include "core/error.h"
#include "format/gguf_writer.h"

namespace llmnpu {
namespace {

std::string folder(const std::string& name) {
  std::string dir = test::temp_dir() + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

// A raw file: 8-byte length, the header text, then `data_bytes` bytes of data.
std::string raw_file(const std::string& name, const std::string& header, size_t data_bytes) {
  std::string path = test::temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << std::string(data_bytes, '\0');
  return path;
}

TEST(Safetensors, WriterRoundTrip) {
  std::vector<float> a = {1, -2, 3.5f, 0, 8, 9};
  std::vector<uint8_t> h = encode_f16(a.data(), a.size());
  std::vector<uint8_t> b = encode_bf16(a.data(), a.size());
  SafetensorsWriter w;
  w.set_metadata("format", "pt");
  w.add_tensor("a", GgmlType::F32, {2, 3}, a.data(), 24);
  w.add_tensor("b.half", GgmlType::F16, {6}, h.data(), h.size());
  w.add_tensor("c.bf", GgmlType::BF16, {3, 2}, b.data(), b.size());
  EXPECT_THROW(w.add_tensor("bad", GgmlType::Q8_0, {32}, a.data(), 34), Error);
  EXPECT_THROW(w.add_tensor("a", GgmlType::F32, {2, 3}, a.data(), 24), Error);
  const std::string path = test::temp_dir() + "/rt.safetensors";
  w.write(path);
  SafetensorsFile f(path);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  ASSERT_EQ(f.tensors().size(), 3u);
  const auto* ta = f.find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->dtype, "F32");
  EXPECT_EQ(ta->shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ta->data) % 8, 0u);  // header padded to keep data aligned
  EXPECT_EQ(std::memcmp(ta->data, a.data(), 24), 0);
  for (const char* name : {"b.half", "c.bf"}) {
    const auto* t = f.find(name);
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(t->float_readable);
    std::vector<float> back(6);
    ggml_to_float(t->type, t->data, back.data(), 6);
    EXPECT_EQ(back, a) << name;
  }
}

TEST(Safetensors, ShardedSetFollowsIndex) {
  const std::string dir = folder("sharded");
  std::vector<float> x = {1, 2}, y = {3, 4, 5};
  SafetensorsWriter w1, w2;
  w1.add_tensor("x", GgmlType::F32, {2}, x.data(), 8);
  w2.add_tensor("y", GgmlType::F32, {3}, y.data(), 12);
  w1.write(dir + "/model-00001-of-00002.safetensors");
  w2.write(dir + "/model-00002-of-00002.safetensors");
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"metadata": {"total_size": 20}, "weight_map": {"x": "model-00001-of-00002.safetensors",
            "y": "model-00002-of-00002.safetensors"}})";
  SafetensorsSet set(dir);
  EXPECT_EQ(set.files().size(), 2u);
  ASSERT_NE(set.find("y"), nullptr);
  EXPECT_EQ(std::memcmp(set.find("y")->data, y.data(), 12), 0);
  EXPECT_EQ(set.tensors().size(), 2u);

  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"weight_map": {"x": "model-00002-of-00002.safetensors"}})";
  EXPECT_THROW(SafetensorsSet s(dir), Error);  // x is not in that shard
  std::ofstream(dir + "/model.safetensors.index.json") << R"({"weight_map": {"x": "../evil.safetensors"}})";
  EXPECT_THROW(SafetensorsSet s(dir), Error);
  std::ofstream(dir + "/model.safetensors.index.json") << R"({"weight_map": [1]})";
  EXPECT_THROW(SafetensorsSet s(dir), Error);
  EXPECT_THROW(SafetensorsSet s(folder("empty")), Error);
}

TEST(Safetensors, HostileHeadersGiveErrors) {
  const std::string ok = R"({"t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  EXPECT_NO_THROW(SafetensorsFile f(raw_file("ok.safetensors", ok, 16)));
  struct Case {
    const char* what;
    std::string header;
    size_t data;
  };
  const Case cases[] = {
      {"offsets past the end", ok, 15},
      {"end before begin", R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 16},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       16},
      {"dtype/shape size mismatch", R"({"t":{"dtype":"F16","shape":[2,2],"data_offsets":[0,16]}})", 16},
      {"unknown dtype", R"({"t":{"dtype":"F7","shape":[4],"data_offsets":[0,16]}})", 16},
      {"bad json", R"({"t":{"dtype":"F32",)", 16},
      {"not an object", R"([1,2])", 16},
      {"negative shape", R"({"t":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", 16},
      {"huge shape", R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})", 16},
      {"missing offsets", R"({"t":{"dtype":"F32","shape":[4]}})", 16},
      {"string offsets", R"({"t":{"dtype":"F32","shape":[4],"data_offsets":["0","16"]}})", 16},
      {"bad metadata", R"({"__metadata__":{"k":1}})", 0},
  };
  for (const auto& c : cases)
    EXPECT_THROW(SafetensorsFile f(raw_file("bad.safetensors", c.header, c.data)), Error) << c.what;

  // Header length larger than the file, absurd, or a file shorter than the length field.
  const std::string path = test::temp_dir() + "/short.safetensors";
  for (uint64_t len : {uint64_t(1000), uint64_t(1) << 62}) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&len), 8);
    out << "{}";
    out.close();
    EXPECT_THROW(SafetensorsFile f(path), Error) << len;
  }
  std::ofstream(path, std::ios::binary) << "abc";
  EXPECT_THROW(SafetensorsFile f(path), Error);
}

}  // namespace
}  // namespace llmnpu
