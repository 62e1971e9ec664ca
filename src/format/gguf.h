#pragma once
// GGUF v2/v3 container: typed metadata plus tensors, read over mmap.
// Parsing only: hostile input is expected, every size and offset is checked before use.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "format/ggml_type.h"

namespace llmnpu {

enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
const char* gguf_type_name(GgufType t);

struct GgufValue {
  GgufType type = GgufType::UINT8;
  // Scalars are kept in the widest field of their kind.
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string s;
  GgufType elem_type = GgufType::UINT8;  // for ARRAY
  std::vector<GgufValue> array;

  bool is_integer() const;
  bool is_number() const;
  int64_t as_int() const;   // throws Error when not an integer (or bool)
  double as_float() const;  // any number
  bool as_bool() const;
  const std::string& as_string() const;
  std::vector<std::string> as_strings() const;
  std::vector<float> as_floats() const;
  std::vector<int64_t> as_ints() const;
  std::string summary() const;  // short human-readable form for `inspect`

  static GgufValue of_u32(uint32_t v);
  static GgufValue of_i32(int32_t v);
  static GgufValue of_u64(uint64_t v);
  static GgufValue of_f32(float v);
  static GgufValue of_bool(bool v);
  static GgufValue of_string(std::string v);
  static GgufValue of_strings(const std::vector<std::string>& v);
  static GgufValue of_f32s(const std::vector<float>& v);
  static GgufValue of_i32s(const std::vector<int32_t>& v);
};

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> dims;  // dims[0] varies fastest (row length), as in ggml
  uint64_t offset = 0;         // from the start of the data section
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  uint64_t elements() const;
  // PyTorch-style shape (slowest first): the reverse of dims.
  std::vector<uint64_t> shape() const { return {dims.rbegin(), dims.rend()}; }
};

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);  // throws Error on any malformed content

  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  const std::string& path() const { return file_->path(); }
  size_t file_size() const { return file_->size(); }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(const std::string& key) const;
  const GgufValue& get(const std::string& key) const;  // throws Error naming the missing key
  std::string get_string(const std::string& key, const std::string& fallback) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;

  // The mapped bytes (tensor data points into them): what a loaded model keeps, rather than the whole
  // GgufFile with its parsed metadata (a 152k-token vocabulary is tens of MB of strings).
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(const std::string& name) const;
  const GgufTensor& tensor(const std::string& name) const;  // throws Error naming the missing tensor

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, size_t> metadata_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace llmnpu
