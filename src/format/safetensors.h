#pragma once
// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw data. Read over mmap; hostile input is expected.
// A "set" is a folder with model.safetensors, or shards listed by model.safetensors.index.json.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "format/ggml_type.h"

namespace llmnpu {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;            // as written in the file: "F32", "BF16", "I64"...
  bool float_readable = false;  // F32, F16 or BF16: `type` is valid
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> shape;  // slowest first (PyTorch order)
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  uint64_t elements() const;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws Error on any malformed content

  const std::string& path() const { return file_->path(); }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a folder: model.safetensors, or the shards named by model.safetensors.index.json.
class SafetensorsSet {
 public:
  explicit SafetensorsSet(const std::string& folder);

  const SafetensorsTensor* find(const std::string& name) const;
  std::vector<const SafetensorsTensor*> tensors() const;  // in file order, shard by shard
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsTensor*> by_name_;
};

// Writes one safetensors file (F32, F16 or BF16 tensors) atomically (PATH.tmp, then rename).
class SafetensorsWriter {
 public:
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // The caller keeps `data` alive until write() returns.
  void add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& shape,
                  const void* data, size_t nbytes);
  void write(const std::string& path) const;

 private:
  struct Pending {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    const void* data;
    size_t nbytes;
  };
  std::map<std::string, std::string> metadata_;
  std::vector<Pending> tensors_;
};

}  // namespace llmnpu
