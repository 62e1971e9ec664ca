#pragma once
// A loaded model: config, float32 weights (row-major [out][in], as PyTorch stores linear layers),
// and its tokenizer. Weights point either into a memory-mapped file (F32 sources) or into buffers
// the model owns (converted from F16/BF16/Q8_0).
#include <any>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "format/ggml_type.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {

struct LayerWeights {
  const float* attn_norm = nullptr;       // [dim]
  const float* wq = nullptr;              // [q_dim][dim]
  const float* wk = nullptr;              // [kv_dim][dim]
  const float* wv = nullptr;              // [kv_dim][dim]
  const float* bq = nullptr;              // [q_dim]   (qkv_bias only)
  const float* bk = nullptr;              // [kv_dim]  (qkv_bias only)
  const float* bv = nullptr;              // [kv_dim]  (qkv_bias only)
  const float* wo = nullptr;              // [dim][q_dim]
  const float* ffn_norm = nullptr;        // [dim]
  const float* w_gate = nullptr;          // [ffn_dim][dim]
  const float* w_up = nullptr;            // [ffn_dim][dim]
  const float* w_down = nullptr;          // [dim][ffn_dim]
  const float* attn_norm_b = nullptr;     // [dim] (LayerNorm only)
  const float* bo = nullptr;              // [dim] (linear_biases only)
  const float* b_up = nullptr;            // [ffn_dim] (linear_biases only)
  const float* b_down = nullptr;          // [dim] (linear_biases only)
  const float* q_norm = nullptr;          // [head_dim] (qk_norm only)
  const float* k_norm = nullptr;          // [head_dim] (qk_norm only)
  const float* post_attn_norm = nullptr;  // [dim] (post_norms only)
  const float* post_ffn_norm = nullptr;   // [dim] (post_norms only)
};

// The field of a per-layer role (TensorRole, model/tensor_names.h); throws Error for a global role.
enum class TensorRole;
const float*& layer_weight(LayerWeights& layer, TensorRole role);
const float* layer_weight(const LayerWeights& layer, TensorRole role);

struct ModelWeights {
  const float* token_embedding = nullptr;  // [vocab][dim]
  std::vector<LayerWeights> layers;
  const float* output_norm = nullptr;    // [dim]
  const float* output_norm_b = nullptr;  // [dim] (LayerNorm only)
  const float* output_b = nullptr;       // [vocab] (linear_biases only)
  const float* output = nullptr;         // [vocab][dim]; equals token_embedding when tied
};

// A weight matrix [rows][cols] left in its file's encoding (F32, F16, BF16, Q8_0, k-quants) in the mapped
// file, decoded a block of rows at a time where it is used (LoadOptions::stream_matrices): a model held
// this way costs no fp32 copy, only its mapping. `data` must point into a read-only file mapping (the
// loaders' MappedFile): reading rows gives their pages back to the page cache (release_mapped_pages).
struct StreamedMatrix {
  GgmlType type = GgmlType::F32;
  const uint8_t* data = nullptr;
  int rows = 0, cols = 0;
  size_t row_bytes = 0;
};

// A weight matrix as its users read it: fp32 in place, or streamed.
struct MatrixRef {
  const float* f32 = nullptr;
  const StreamedMatrix* streamed = nullptr;
  int rows = 0, cols = 0;

  explicit operator bool() const { return f32 != nullptr || streamed != nullptr; }
  // Rows [r0, r0 + n) in fp32 into out ([n][cols]).
  void read_rows(int r0, int n, float* out) const;
  // The same rows in F16 (copied as stored when the matrix is streamed F16).
  void read_rows_f16(int r0, int n, uint16_t* out) const;
};

struct Model {
  ModelConfig config;
  ModelWeights weights;
  // Matrices kept streamed, by (layer, role); layer -1 for the embedding and the output head. Their
  // float pointers in `weights` are null.
  std::map<std::pair<int, TensorRole>, StreamedMatrix> streamed;
  std::unique_ptr<Tokenizer> tokenizer;  // may be null (a checkpoint without tokenizer)
  std::string format;                    // "gguf", "hf", "llama2c"
  std::string path;

  // Keeps weight memory alive: mapped files and converted buffers.
  std::vector<std::shared_ptr<const void>> keep_alive;
  // Stores a converted float copy owned by this model and returns its data.
  float* own(std::vector<float> data);
  // A matrix role (a linear layer's weight, the embedding, the output head) as fp32 or streamed; empty
  // when the model has none. layer is ignored for the embedding and the head.
  MatrixRef matrix(int layer, TensorRole role) const;
};

}  // namespace llmnpu
