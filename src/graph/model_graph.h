#pragma once
// The linear layers of a model as the subgraphs use them. Q/K/V and gate/up are fused (they read the
// same input), so an int8 backend quantizes that input once and runs one GEMM.
#include <functional>
#include <memory>
#include <vector>

#include "graph/linear.h"
#include "graph/subgraph.h"
#include "model/model.h"

namespace llmnpu {

struct LayerLinears {
  std::unique_ptr<LinearOp> qkv;      // out: [q_dim | kv_dim | kv_dim]
  std::unique_ptr<LinearOp> o;        // out: dim
  std::unique_ptr<LinearOp> gate_up;  // out: [ffn_dim | ffn_dim]
  std::unique_ptr<LinearOp> down;     // out: dim
};

struct ModelGraph {
  std::vector<LayerLinears> layers;
  std::unique_ptr<LinearOp> head;  // out: vocab
  std::vector<Subgraph> chunk_subgraphs;
  bool quantized = false;
  std::string describe;  // "fp32", "w8a8 + shadow outliers", ...
};

// Makes the linear for weights [out][in] (+ bias) in some format (fp32, fake-quantized, ...).
using LinearFactory =
    std::function<std::unique_ptr<LinearOp>(const float* w, const float* bias, int in, int out)>;

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

 private:
  std::vector<std::unique_ptr<LinearOp>> parts_;
};

}  // namespace llmnpu
