#include "format/gguf_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/half.h"

namespace llmnpu {

namespace {

// Little-endian byte sink over an ofstream that counts what it wrote (for padding).
class Sink {
 public:
  explicit Sink(std::ofstream& out) : out_(out) {}
  void bytes(const void* p, size_t n) {
    out_.write(static_cast<const char*>(p), std::streamsize(n));
    written_ += n;
  }
  template <typename T>
  void put(T v) {
    bytes(&v, sizeof(T));
  }
  void string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(size_t alignment) {
    static const char zeros[4096] = {};
    size_t pad = (alignment - written_ % alignment) % alignment;
    bytes(zeros, pad);
  }
  size_t written() const { return written_; }

 private:
  std::ofstream& out_;
  size_t written_ = 0;
};

void put_value(Sink& out, const GgufValue& v, const std::string& key) {
  switch (v.type) {
    case GgufType::UINT8: out.put<uint8_t>(uint8_t(v.u)); break;
    case GgufType::INT8: out.put<int8_t>(int8_t(v.i)); break;
    case GgufType::UINT16: out.put<uint16_t>(uint16_t(v.u)); break;
    case GgufType::INT16: out.put<int16_t>(int16_t(v.i)); break;
    case GgufType::UINT32: out.put<uint32_t>(uint32_t(v.u)); break;
    case GgufType::INT32: out.put<int32_t>(int32_t(v.i)); break;
    case GgufType::UINT64: out.put<uint64_t>(v.u); break;
    case GgufType::INT64: out.put<int64_t>(v.i); break;
    case GgufType::FLOAT32: out.put<float>(float(v.f)); break;
    case GgufType::FLOAT64: out.put<double>(v.f); break;
    case GgufType::BOOL: out.put<uint8_t>(v.u ? 1 : 0); break;
    case GgufType::STRING: out.string(v.s); break;
    case GgufType::ARRAY:
      out.put<uint32_t>(uint32_t(v.elem_type));
      out.put<uint64_t>(v.array.size());
      for (const auto& e : v.array) {
        check(e.type == v.elem_type, "GGUF writer: key '", key, "' mixes element types in an array");
        put_value(out, e, key);
      }
      break;
    default: fail("GGUF writer: key '", key, "' has unknown value type ", uint32_t(v.type));
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  check(!key.empty(), "GGUF writer: empty metadata key");
  for (auto& [k, v] : metadata_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  metadata_.emplace_back(key, std::move(value));
}

size_t GgufWriter::alignment() const {
  for (const auto& [k, v] : metadata_)
    if (k == "general.alignment") {
      int64_t a = v.as_int();
      check(a > 0 && a <= 4096 && (a & (a - 1)) == 0, "GGUF writer: general.alignment ", a,
            " is not a power of two");
      return size_t(a);
    }
  return 32;
}

void GgufWriter::check_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims,
                              size_t nbytes) const {
  check(!name.empty(), "GGUF writer: empty tensor name");
  check(!dims.empty() && dims.size() <= 4, "GGUF writer: tensor '", name, "' has rank ", dims.size());
  for (const auto& t : tensors_) check(t.name != name, "GGUF writer: duplicate tensor '", name, "'");
  uint64_t rows = 1;
  for (size_t d = 1; d < dims.size(); ++d) rows *= dims[d];
  size_t expected = ggml_row_bytes(type, dims[0]) * rows;
  check(expected == nbytes, "GGUF writer: tensor '", name, "' of type ", ggml_type_name(type), " needs ",
        expected, " bytes, got ", nbytes);
}

void GgufWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims,
                            const void* data, size_t nbytes) {
  check_tensor(name, type, dims, nbytes);
  check(data != nullptr || nbytes == 0, "GGUF writer: tensor '", name, "' has no data");
  tensors_.push_back({name, type, dims, data, nbytes, {}});
}

void GgufWriter::add_tensor_produced(const std::string& name, GgmlType type,
                                     const std::vector<uint64_t>& dims, size_t nbytes, Producer produce) {
  check_tensor(name, type, dims, nbytes);
  check(bool(produce), "GGUF writer: tensor '", name, "' has no producer");
  tensors_.push_back({name, type, dims, nullptr, nbytes, std::move(produce)});
}

void GgufWriter::add_tensor_owned(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims,
                                  std::vector<uint8_t> bytes) {
  owned_.push_back(std::move(bytes));
  add_tensor(name, type, dims, owned_.back().data(), owned_.back().size());
}

void GgufWriter::write(const std::string& path) const {
  const size_t align = alignment();
  const std::string tmp = path + ".tmp";
  std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
  check(file.good(), "cannot create '", tmp, "'");
  try {
    Sink out(file);
    out.bytes("GGUF", 4);
    out.put<uint32_t>(3);
    out.put<uint64_t>(tensors_.size());
    out.put<uint64_t>(metadata_.size());
    for (const auto& [key, value] : metadata_) {
      out.string(key);
      out.put<uint32_t>(uint32_t(value.type));
      put_value(out, value, key);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      out.string(t.name);
      out.put<uint32_t>(uint32_t(t.dims.size()));
      for (uint64_t d : t.dims) out.put<uint64_t>(d);
      out.put<uint32_t>(uint32_t(t.type));
      out.put<uint64_t>(offset);
      offset += (t.nbytes + align - 1) / align * align;
    }
    out.pad_to(align);
    for (const auto& t : tensors_) {
      if (t.produce) {
        size_t written = 0;
        t.produce([&](const void* bytes, size_t n) {
          check(written + n <= t.nbytes, "GGUF writer: tensor '", t.name, "' was produced with more than ",
                t.nbytes, " bytes");
          out.bytes(bytes, n);
          written += n;
        });
        check(written == t.nbytes, "GGUF writer: tensor '", t.name, "' was produced with ", written,
              " bytes, expected ", t.nbytes);
      } else {
        out.bytes(t.data, t.nbytes);
      }
      out.pad_to(align);
    }
    file.flush();
    check(file.good(), "writing '", tmp, "' failed (disk full?)");
    file.close();
  } catch (...) {  // a failed write or producer leaves no partial file behind
    file.close();
    std::remove(tmp.c_str());
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("cannot rename '", tmp, "' to '", path, "': ", ec.message());
  }
}

std::vector<uint8_t> encode_f16(const float* src, size_t n) {
  std::vector<uint8_t> out(n * 2);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = float_to_half(src[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

std::vector<uint8_t> encode_bf16(const float* src, size_t n) {
  std::vector<uint8_t> out(n * 2);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = float_to_bf16(src[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

std::vector<uint8_t> encode_q8_0(const float* src, size_t n) {
  check(n % 32 == 0, "Q8_0 needs a multiple of 32 elements, got ", n);
  std::vector<uint8_t> out(n / 32 * 34);
  for (size_t b = 0; b < n / 32; ++b) {
    const float* x = src + b * 32;
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    float d = amax / 127.0f;
    float inv = d != 0 ? 1.0f / d : 0.0f;
    uint8_t* block = out.data() + b * 34;
    uint16_t h = float_to_half(d);
    std::memcpy(block, &h, 2);
    for (int j = 0; j < 32; ++j) {
      float q = std::round(x[j] * inv);
      block[2 + j] = uint8_t(int8_t(std::clamp(q, -127.0f, 127.0f)));
    }
  }
  return out;
}

std::vector<uint8_t> encode_floats(GgmlType type, const float* src, size_t n) {
  switch (type) {
    case GgmlType::F32: {
      std::vector<uint8_t> out(n * 4);
      std::memcpy(out.data(), src, n * 4);
      return out;
    }
    case GgmlType::F16: return encode_f16(src, n);
    case GgmlType::BF16: return encode_bf16(src, n);
    case GgmlType::Q8_0: return encode_q8_0(src, n);
    default: fail("cannot encode floats as ", ggml_type_name(type), " (F32, F16, BF16, Q8_0 are supported)");
  }
}

}  // namespace llmnpu
