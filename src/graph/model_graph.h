#pragma once
// A model ready to run: its layer program, the per-chunk subgraphs cut from it, and the weights the
// program names (linears in some format, norm vectors). Q/K/V and gate/up are fused linears (they read
// the same input), so an int8 backend quantizes that input once and runs one GEMM. Backends see weights
// only through weight_vector() and linear(): never the model's config.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/linear.h"
#include "graph/program.h"
#include "graph/subgraph.h"
#include "model/model.h"

namespace llmnpu {

struct LayerLinears {
  std::unique_ptr<LinearOp> qkv;      // out: [q_dim | kv_dim | kv_dim]
  std::unique_ptr<LinearOp> o;        // out: dim
  std::unique_ptr<LinearOp> gate_up;  // out: [ffn_dim | ffn_dim]
  std::unique_ptr<LinearOp> down;     // out: dim
};

// A float vector weight (norm weight or bias) and its length.
struct VectorWeight {
  const float* data = nullptr;
  int size = 0;
};

// Token embedding rows kept in a form other than an fp32 table (a prepared model's int8 head, to which
// its embeddings are tied, or a Q8_0 table): writes row `id` (dim floats) to out.
struct EmbeddingRows {
  std::function<void(int32_t id, float* out)> row;
  int vocab = 0;
};

struct ModelGraph {
  std::vector<LayerLinears> layers;
  EmbeddingRows embedding;  // when set, the embed op reads rows here instead of the "token_embd" vector
  std::unique_ptr<LinearOp> head;  // out: vocab
  ModelProgram program;
  std::vector<Subgraph> chunk_subgraphs;
  std::map<std::string, VectorWeight> vectors;  // by WeightRef::describe()
  bool quantized = false;
  std::string describe;  // "fp32", "w8a8 + shadow outliers", ...

  // The weights an op names; throw Error naming the weight when there is none.
  const LinearOp& linear(const WeightRef& ref) const;
  VectorWeight weight_vector(const WeightRef& ref) const;
};

// Builds the program of model.config, cuts it into subgraphs (static ones on the accelerator when
// quantized), binds the model's norm vectors, and checks every weight an op names exists with the shape
// the op needs (a one-line Error naming the op and the weight otherwise). The linears must be in place.
void bind_program(ModelGraph& graph, const Model& model, bool quantized);
// The same check on its own (after a graph's linears change).
void check_program_weights(const ModelGraph& graph);

// Makes the linear for weights [out][in] (+ bias) in some format (fp32, fake-quantized, ...).
using LinearFactory = std::function<std::unique_ptr<LinearOp>(const MatrixRef& w, const float* bias)>;

// The layers of a model graph with every linear made by `make` (Q/K/V and gate/up fused), the per-chunk
// subgraphs of a float graph, and no head (the caller adds one).
ModelGraph build_graph_from_weights(const Model& model, const LinearFactory& make);

// Several linears sharing one input, writing side by side: y = [x·W0^T | x·W1^T | ...].
class ConcatLinear final : public LinearOp {
 public:
  explicit ConcatLinear(std::vector<std::unique_ptr<LinearOp>> parts);
  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  std::string describe() const override;
  size_t weight_bytes() const override;
  const std::vector<std::unique_ptr<LinearOp>>& parts() const { return parts_; }

 private:
  std::vector<std::unique_ptr<LinearOp>> parts_;
};

}  // namespace llmnpu
