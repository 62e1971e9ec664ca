#pragma once
// Writes GGUF v3 files: typed metadata plus tensors. Tensor data is streamed from the caller's
// buffers at write time (nothing is gathered into one big buffer); the file appears atomically
// (written to PATH.tmp, then renamed).
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "format/ggml_type.h"
#include "format/gguf.h"

namespace llmnpu {

class GgufWriter {
 public:
  // Sets (or replaces) a metadata key; keys keep the order they were first set in.
  // "general.alignment" (a power of two) decides the data alignment; 32 when absent.
  void set(const std::string& key, GgufValue value);

  // Adds a tensor; dims in ggml order (dims[0] varies fastest). The caller keeps `data` alive until
  // write() returns. nbytes must equal the size the type and dims imply.
  void add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims, const void* data,
                  size_t nbytes);
  // Same, but the writer keeps the bytes.
  void add_tensor_owned(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims,
                        std::vector<uint8_t> bytes);

  // Same, but the bytes are made by `produce` while write() runs, one tensor at a time, handed to the
  // writer piece by piece (`write(bytes, n)`, in order) and dropped once written: a file larger than
  // memory (a 7B model's weights) is written tensor by tensor, and a tensor larger than the memory one
  // wants to spend on it (a 150k-row embedding table) piece by piece.
  using PieceWriter = std::function<void(const void* bytes, size_t n)>;
  using Producer = std::function<void(const PieceWriter& write)>;
  void add_tensor_produced(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims,
                           size_t nbytes, Producer produce);

  void write(const std::string& path) const;

  size_t tensor_count() const { return tensors_.size(); }

 private:
  struct Pending {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> dims;
    const void* data;
    size_t nbytes;
    Producer produce;  // set for produced tensors (data is null)
  };
  void check_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& dims,
                    size_t nbytes) const;
  size_t alignment() const;

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Pending> tensors_;
  std::list<std::vector<uint8_t>> owned_;  // a list: element addresses stay put as it grows
};

// Float -> GGUF storage encodings (row-major, n elements). Q8_0 needs n % 32 == 0.
std::vector<uint8_t> encode_f16(const float* src, size_t n);
std::vector<uint8_t> encode_bf16(const float* src, size_t n);
std::vector<uint8_t> encode_q8_0(const float* src, size_t n);
// Any of F32, F16, BF16, Q8_0; throws Error for other types.
std::vector<uint8_t> encode_floats(GgmlType type, const float* src, size_t n);

}  // namespace llmnpu
