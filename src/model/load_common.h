#pragma once
// What every format loader shares: a table of the tensors a file holds (any layout, any type), and the
// step that turns it into float32 model weights with every shape checked against the config.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "format/ggml_type.h"
#include "model/model.h"
#include "model/tensor_names.h"

namespace llmnpu {

struct SourceTensor {
  std::string name;
  std::string type_name;        // as the file names it
  bool float_readable = false;  // `type` can be converted to float by ggml_to_float
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> shape;  // slowest first
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
};

class TensorTable {
 public:
  void add(SourceTensor t);
  const SourceTensor* find(const std::string& name) const;
  const std::vector<SourceTensor>& all() const { return tensors_; }

 private:
  std::vector<SourceTensor> tensors_;
  std::map<std::string, size_t> index_;
};

// Adds the parts of a tensor fused along its rows (slowest dimension) as tensors of their own, each a
// run of whole rows; the row counts must add up to the tensor's (Phi-3's Q|K|V and gate|up).
// transposed: the tensor is one row ([1][n], a fused bias) cut along its columns.
void split_rows(TensorTable& table, SourceTensor fused, const std::vector<std::pair<std::string, int>>& parts,
                bool transposed = false);

// Fills model.weights (config must be set and valid) from `table` using `scheme` names. F32 data is
// used in place (the caller puts what keeps it mapped into model.keep_alive); other types are converted
// into buffers the model owns. Throws Error naming any missing, misshapen or unreadable tensor.
// stream_matrices: linear weights, the embedding and the head stay in the file's encoding, fp32 included
// (Model::streamed), instead of being converted or used in place.
void assemble_weights(Model& model, const TensorTable& table, NameScheme scheme,
                      bool stream_matrices = false);

// Loaders for each format (loader.cc chooses).
std::unique_ptr<Model> load_gguf_model(const std::string& path, bool stream_matrices = false);
std::unique_ptr<Model> load_hf_model(const std::string& folder, bool stream_matrices = false);
std::unique_ptr<Model> load_llama2c_model(const std::string& path);

// llama2.c: reads the header and checks the file size; throws Error when PATH is not a checkpoint.
struct Llama2cHeader {
  int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
  bool shared_classifier;
};
Llama2cHeader read_llama2c_header(const uint8_t* data, size_t size, const std::string& path);
TensorTable llama2c_tensors(const Llama2cHeader& h, const uint8_t* data);

std::string folder_of(const std::string& path);

}  // namespace llmnpu
