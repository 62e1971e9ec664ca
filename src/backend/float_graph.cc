#include "backend/float_graph.h"

#include "backend/float_linear.h"

namespace llmnpu {

ModelGraph build_float_graph(const Model& model) {
  const ModelConfig& c = model.config;
  ModelGraph g;
  auto linear = [](const float* w, const float* b, int in, int out) {
    return std::make_unique<FloatLinear>(w, b, in, out);
  };
  for (const LayerWeights& L : model.weights.layers) {
    LayerLinears ops;
    std::vector<std::unique_ptr<LinearOp>> qkv;
    qkv.push_back(linear(L.wq, L.bq, c.dim, c.q_dim()));
    qkv.push_back(linear(L.wk, L.bk, c.dim, c.kv_dim()));
    qkv.push_back(linear(L.wv, L.bv, c.dim, c.kv_dim()));
    ops.qkv = std::make_unique<ConcatLinear>(std::move(qkv));
    ops.o = linear(L.wo, nullptr, c.q_dim(), c.dim);
    std::vector<std::unique_ptr<LinearOp>> gate_up;
    gate_up.push_back(linear(L.w_gate, nullptr, c.dim, c.ffn_dim));
    gate_up.push_back(linear(L.w_up, nullptr, c.dim, c.ffn_dim));
    ops.gate_up = std::make_unique<ConcatLinear>(std::move(gate_up));
    ops.down = linear(L.w_down, nullptr, c.ffn_dim, c.dim);
    g.layers.push_back(std::move(ops));
  }
  g.head = linear(model.weights.output, nullptr, c.dim, c.vocab_size);
  g.chunk_subgraphs = build_chunk_subgraphs(c.n_layers, false);
  g.quantized = false;
  g.describe = "fp32 (host)";
  return g;
}

}  // namespace llmnpu
