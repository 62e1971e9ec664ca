#include "format/gguf.h"

#include <cstring>
#include <limits>

#include "core/error.h"

namespace llmnpu {

namespace {

constexpr uint64_t kMaxArrayLength = uint64_t(1) << 28;  // far above any real vocab, far below OOM
constexpr uint64_t kMaxStringLength = uint64_t(1) << 26;
constexpr int kMaxArrayDepth = 4;

// Bounds-checked little-endian reader over the mapped header.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& path) : data_(data), size_(size), path_(path) {}
  size_t pos() const { return pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > size_ - pos_)
      fail("'", path_, "' is truncated: reading ", what, " at byte ", pos_, " needs ", n, " bytes, file has ",
           size_);
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const char* what) {
    uint64_t n = read<uint64_t>(what);
    if (n > kMaxStringLength) fail("'", path_, "': ", what, " has an implausible length ", n);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
};

GgufValue read_value(Cursor& in, GgufType type, const std::string& key, int depth, const std::string& path) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufType::UINT8: v.u = in.read<uint8_t>("a value"); break;
    case GgufType::INT8: v.i = in.read<int8_t>("a value"); break;
    case GgufType::UINT16: v.u = in.read<uint16_t>("a value"); break;
    case GgufType::INT16: v.i = in.read<int16_t>("a value"); break;
    case GgufType::UINT32: v.u = in.read<uint32_t>("a value"); break;
    case GgufType::INT32: v.i = in.read<int32_t>("a value"); break;
    case GgufType::UINT64: v.u = in.read<uint64_t>("a value"); break;
    case GgufType::INT64: v.i = in.read<int64_t>("a value"); break;
    case GgufType::FLOAT32: v.f = in.read<float>("a value"); break;
    case GgufType::FLOAT64: v.f = in.read<double>("a value"); break;
    case GgufType::BOOL: {
      uint8_t b = in.read<uint8_t>("a value");
      check(b <= 1, "'", path, "': key '", key, "' has a bool that is neither 0 nor 1");
      v.u = b;
      break;
    }
    case GgufType::STRING: v.s = in.read_string("a string value"); break;
    case GgufType::ARRAY: {
      check(depth < kMaxArrayDepth, "'", path, "': key '", key, "' nests arrays too deeply");
      uint32_t et = in.read<uint32_t>("an array type");
      check(et <= uint32_t(GgufType::FLOAT64), "'", path, "': key '", key,
            "' has unknown array element type ", et);
      uint64_t n = in.read<uint64_t>("an array length");
      check(n <= kMaxArrayLength, "'", path, "': key '", key, "' has an implausible array length ", n);
      // Every element takes at least one byte: reject lengths the file cannot hold before allocating.
      in.need(n, "array elements");
      v.elem_type = GgufType(et);
      v.array.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.array.push_back(read_value(in, v.elem_type, key, depth + 1, path));
      break;
    }
    default: fail("'", path, "': key '", key, "' has unknown value type ", uint32_t(type));
  }
  return v;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  static const char* names[] = {"u8",   "i8",  "u16", "i16", "u32", "i32", "f32",
                                "bool", "str", "arr", "u64", "i64", "f64"};
  return uint32_t(t) <= 12 ? names[uint32_t(t)] : "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::UINT16:
    case GgufType::INT16:
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::UINT64:
    case GgufType::INT64: return true;
    default: return false;
  }
}
bool GgufValue::is_number() const {
  return is_integer() || type == GgufType::FLOAT32 || type == GgufType::FLOAT64 || type == GgufType::BOOL;
}
static bool is_unsigned(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::UINT16 || t == GgufType::UINT32 || t == GgufType::UINT64 ||
         t == GgufType::BOOL;
}
int64_t GgufValue::as_int() const {
  if (is_unsigned(type)) {
    check(u <= uint64_t(std::numeric_limits<int64_t>::max()), "integer value ", u, " is too large");
    return int64_t(u);
  }
  if (is_integer()) return i;
  fail("expected an integer, found ", gguf_type_name(type));
}
double GgufValue::as_float() const {
  if (type == GgufType::FLOAT32 || type == GgufType::FLOAT64) return f;
  if (is_unsigned(type)) return double(u);
  if (is_integer()) return double(i);
  fail("expected a number, found ", gguf_type_name(type));
}
bool GgufValue::as_bool() const {
  check(type == GgufType::BOOL || is_integer(), "expected a bool, found ", gguf_type_name(type));
  return as_int() != 0;
}
const std::string& GgufValue::as_string() const {
  check(type == GgufType::STRING, "expected a string, found ", gguf_type_name(type));
  return s;
}
std::vector<std::string> GgufValue::as_strings() const {
  check(type == GgufType::ARRAY && elem_type == GgufType::STRING, "expected an array of strings");
  std::vector<std::string> out;
  out.reserve(array.size());
  for (const auto& e : array) out.push_back(e.s);
  return out;
}
std::vector<float> GgufValue::as_floats() const {
  check(type == GgufType::ARRAY, "expected an array of numbers");
  std::vector<float> out;
  out.reserve(array.size());
  for (const auto& e : array) out.push_back(float(e.as_float()));
  return out;
}
std::vector<int64_t> GgufValue::as_ints() const {
  check(type == GgufType::ARRAY, "expected an array of integers");
  std::vector<int64_t> out;
  out.reserve(array.size());
  for (const auto& e : array) out.push_back(e.as_int());
  return out;
}
std::string GgufValue::summary() const {
  switch (type) {
    case GgufType::STRING: return s.size() > 60 ? "\"" + s.substr(0, 57) + "...\"" : "\"" + s + "\"";
    case GgufType::BOOL: return u ? "true" : "false";
    case GgufType::FLOAT32:
    case GgufType::FLOAT64: return str(f);
    case GgufType::ARRAY: {
      std::string out = str("[", gguf_type_name(elem_type), " x ", array.size(), "]");
      if (!array.empty()) out += " " + array[0].summary() + (array.size() > 1 ? ", ..." : "");
      return out;
    }
    default: return is_unsigned(type) ? str(u) : str(i);
  }
}

GgufValue GgufValue::of_u32(uint32_t v) {
  GgufValue x;
  x.type = GgufType::UINT32;
  x.u = v;
  return x;
}
GgufValue GgufValue::of_i32(int32_t v) {
  GgufValue x;
  x.type = GgufType::INT32;
  x.i = v;
  return x;
}
GgufValue GgufValue::of_u64(uint64_t v) {
  GgufValue x;
  x.type = GgufType::UINT64;
  x.u = v;
  return x;
}
GgufValue GgufValue::of_f32(float v) {
  GgufValue x;
  x.type = GgufType::FLOAT32;
  x.f = v;
  return x;
}
GgufValue GgufValue::of_bool(bool v) {
  GgufValue x;
  x.type = GgufType::BOOL;
  x.u = v;
  return x;
}
GgufValue GgufValue::of_string(std::string v) {
  GgufValue x;
  x.type = GgufType::STRING;
  x.s = std::move(v);
  return x;
}
GgufValue GgufValue::of_strings(const std::vector<std::string>& v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = GgufType::STRING;
  for (const auto& s : v) x.array.push_back(of_string(s));
  return x;
}
GgufValue GgufValue::of_f32s(const std::vector<float>& v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = GgufType::FLOAT32;
  for (float f : v) x.array.push_back(of_f32(f));
  return x;
}
GgufValue GgufValue::of_i32s(const std::vector<int32_t>& v) {
  GgufValue x;
  x.type = GgufType::ARRAY;
  x.elem_type = GgufType::INT32;
  for (int32_t i : v) x.array.push_back(of_i32(i));
  return x;
}

uint64_t GgufTensor::elements() const {
  uint64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

GgufFile::GgufFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) {
  Cursor in(file_->data(), file_->size(), path);
  check(file_->size() >= 4 && std::memcmp(file_->data(), "GGUF", 4) == 0, "'", path,
        "' is not a GGUF file (bad magic)");
  in.read<uint32_t>("the magic");
  version_ = in.read<uint32_t>("the version");
  check(version_ == 2 || version_ == 3, "'", path, "': GGUF version ", version_,
        " is not supported (2 and 3 are)");
  uint64_t n_tensors = in.read<uint64_t>("the tensor count");
  uint64_t n_kv = in.read<uint64_t>("the metadata count");
  check(n_tensors <= (1u << 24), "'", path, "': implausible tensor count ", n_tensors);
  check(n_kv <= (1u << 24), "'", path, "': implausible metadata count ", n_kv);

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = in.read_string("a metadata key");
    uint32_t t = in.read<uint32_t>("a metadata type");
    check(t <= uint32_t(GgufType::FLOAT64), "'", path, "': key '", key, "' has unknown type ", t);
    GgufValue v = read_value(in, GgufType(t), key, 0, path);
    check(!metadata_index_.count(key), "'", path, "': duplicate metadata key '", key, "'");
    metadata_index_[key] = metadata_.size();
    metadata_.emplace_back(std::move(key), std::move(v));
  }
  if (const GgufValue* a = find("general.alignment")) {
    int64_t al = a->as_int();
    check(al > 0 && al <= 4096 && (al & (al - 1)) == 0, "'", path, "': general.alignment ", al,
          " is not a power of two");
    alignment_ = size_t(al);
  }

  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensor t;
    t.name = in.read_string("a tensor name");
    uint32_t n_dims = in.read<uint32_t>("a tensor rank");
    check(n_dims >= 1 && n_dims <= 4, "'", path, "': tensor '", t.name, "' has rank ", n_dims);
    uint64_t running = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = in.read<uint64_t>("a tensor dimension");
      check(dim > 0 && dim <= (uint64_t(1) << 40), "'", path, "': tensor '", t.name, "' has dimension ", dim);
      // Check the running product so that absurd dims cannot wrap around to a small element count.
      check(!__builtin_mul_overflow(running, dim, &running) && running <= (uint64_t(1) << 40), "'", path,
            "': tensor '", t.name, "' is implausibly large");
      t.dims.push_back(dim);
    }
    uint32_t type = in.read<uint32_t>("a tensor type");
    const GgmlTypeInfo* info = ggml_type_info(type);
    check(info != nullptr, "'", path, "': tensor '", t.name, "' has unknown type ", type);
    t.type = GgmlType(type);
    t.offset = in.read<uint64_t>("a tensor offset");
    uint64_t elems = t.elements();
    check(elems <= (uint64_t(1) << 40), "'", path, "': tensor '", t.name, "' is implausibly large");
    if (info->block_bytes) {
      check(t.dims[0] % info->block_elements == 0, "'", path, "': tensor '", t.name, "' row length ",
            t.dims[0], " is not a multiple of the ", info->name, " block");
      t.nbytes = size_t(elems / info->block_elements * info->block_bytes);
    }
    check(!tensor_index_.count(t.name), "'", path, "': duplicate tensor '", t.name, "'");
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  size_t data_start = (in.pos() + alignment_ - 1) / alignment_ * alignment_;
  check(data_start <= file_->size() || tensors_.empty(), "'", path, "' is truncated before its tensor data");
  for (auto& t : tensors_) {
    check(t.offset % alignment_ == 0, "'", path, "': tensor '", t.name, "' is not aligned");
    uint64_t begin = data_start + t.offset;
    check(t.offset <= file_->size() && begin <= file_->size() && t.nbytes <= file_->size() - begin, "'", path,
          "' is truncated: tensor '", t.name, "' needs bytes ", begin, "..", begin + t.nbytes, " of ",
          file_->size());
    t.data = file_->data() + begin;
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}
const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  check(v != nullptr, "'", path(), "': missing metadata key '", key, "'");
  return *v;
}
std::string GgufFile::get_string(const std::string& key, const std::string& fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_string() : fallback;
}
int64_t GgufFile::get_int(const std::string& key, int64_t fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_int() : fallback;
}
double GgufFile::get_float(const std::string& key, double fallback) const {
  const GgufValue* v = find(key);
  return v ? v->as_float() : fallback;
}
const GgufTensor* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}
const GgufTensor& GgufFile::tensor(const std::string& name) const {
  const GgufTensor* t = find_tensor(name);
  check(t != nullptr, "'", path(), "': missing tensor '", name, "'");
  return *t;
}

}  // namespace llmnpu
