#include "graph/chunk.h"

namespace llmnpu {

void Chunk::allocate(const ModelConfig& c, int n_rows) {
  rows = n_rows;
  size_t r = size_t(n_rows);
  x.assign(r * size_t(c.dim), 0.0f);
  xb.assign(r * size_t(c.dim), 0.0f);
  qkv.assign(r * size_t(c.q_dim() + 2 * c.kv_dim()), 0.0f);
  att.assign(r * size_t(c.q_dim()), 0.0f);
  gate_up.assign(r * size_t(2 * c.ffn_dim), 0.0f);
}

void Chunk::release_activations() {
  for (auto* v : {&x, &xb, &qkv, &att, &gate_up}) std::vector<float>().swap(*v);
}

}  // namespace llmnpu
