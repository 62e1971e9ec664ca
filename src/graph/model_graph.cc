#include "graph/model_graph.h"

#include "core/error.h"

namespace llmnpu {

static int total_out(const std::vector<std::unique_ptr<LinearOp>>& parts) {
  int n = 0;
  for (const auto& p : parts) n += p->out_features();
  return n;
}

ConcatLinear::ConcatLinear(std::vector<std::unique_ptr<LinearOp>> parts)
    : LinearOp(parts.empty() ? 0 : parts[0]->in_features(), total_out(parts)), parts_(std::move(parts)) {
  for (const auto& p : parts_)
    check(p->in_features() == in_features(), "fused linears disagree on input size");
}

void ConcatLinear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                           ThreadPool* pool) const {
  size_t offset = 0;
  for (const auto& p : parts_) {
    p->forward(x, T, ldx, y + offset, ldy, accumulate, pool);
    offset += size_t(p->out_features());
  }
}

std::string ConcatLinear::describe() const { return parts_.empty() ? "empty" : parts_[0]->describe(); }

size_t ConcatLinear::weight_bytes() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->weight_bytes();
  return n;
}

ModelGraph build_graph_from_weights(const Model& model, const LinearFactory& make) {
  const ModelConfig& c = model.config;
  ModelGraph g;
  for (const LayerWeights& L : model.weights.layers) {
    LayerLinears ops;
    std::vector<std::unique_ptr<LinearOp>> qkv;
    qkv.push_back(make(L.wq, L.bq, c.dim, c.q_dim()));
    qkv.push_back(make(L.wk, L.bk, c.dim, c.kv_dim()));
    qkv.push_back(make(L.wv, L.bv, c.dim, c.kv_dim()));
    ops.qkv = std::make_unique<ConcatLinear>(std::move(qkv));
    ops.o = make(L.wo, nullptr, c.q_dim(), c.dim);
    std::vector<std::unique_ptr<LinearOp>> gate_up;
    gate_up.push_back(make(L.w_gate, nullptr, c.dim, c.ffn_dim));
    gate_up.push_back(make(L.w_up, nullptr, c.dim, c.ffn_dim));
    ops.gate_up = std::make_unique<ConcatLinear>(std::move(gate_up));
    ops.down = make(L.w_down, nullptr, c.ffn_dim, c.dim);
    g.layers.push_back(std::move(ops));
  }
  g.chunk_subgraphs = build_chunk_subgraphs(c.n_layers, false);
  g.quantized = false;
  return g;
}

}  // namespace llmnpu
