#include "graph/sharing_report.h"

#include <algorithm>

#include "core/error.h"

namespace llmnpu {

static SubgraphFootprint footprint(const Subgraph& sg, const ModelGraph& g, const ModelConfig& c, int chunk) {
  SubgraphFootprint f;
  f.subgraph = sg;
  size_t rows = size_t(chunk), fl = sizeof(float);
  size_t qkv = size_t(c.q_dim() + 2 * c.kv_dim());
  switch (sg.op) {
    case SubgraphOp::Qkv:
      f.weight_bytes = g.layers[size_t(sg.layer)].qkv->weight_bytes() + size_t(c.dim) * fl;  // + norm
      f.buffer_bytes = rows * (size_t(c.dim) + qkv) * fl;
      break;
    case SubgraphOp::Attention: f.buffer_bytes = rows * (qkv + size_t(c.q_dim())) * fl; break;
    case SubgraphOp::OMlp: {
      const LayerLinears& L = g.layers[size_t(sg.layer)];
      f.weight_bytes =
          L.o->weight_bytes() + L.gate_up->weight_bytes() + L.down->weight_bytes() + size_t(c.dim) * fl;
      // att, x, xb and gate_up (silu(gate) * up is written over the gate half).
      f.buffer_bytes = rows * (size_t(c.q_dim()) + 2 * size_t(c.dim) + 2 * size_t(c.ffn_dim)) * fl;
      break;
    }
    case SubgraphOp::Head:
      f.weight_bytes = g.head->weight_bytes() + size_t(c.dim) * fl;
      f.buffer_bytes = rows * (size_t(c.dim) + size_t(c.vocab_size)) * fl;
      break;
  }
  return f;
}

SharingReport sharing_report(const ModelGraph& graph, const ModelConfig& config, int prompt, int chunk,
                             int max_in_flight) {
  check(prompt > 0 && chunk > 0 && max_in_flight > 0,
        "prompt and chunk lengths and chunks in flight must be positive");
  SharingReport r;
  r.prompt = prompt;
  r.chunk = chunk;
  r.chunks = (prompt + chunk - 1) / chunk;
  r.per_chunk_subgraphs = int(graph.chunk_subgraphs.size());
  for (const Subgraph& sg : graph.chunk_subgraphs) {
    SubgraphFootprint f = footprint(sg, graph, config, chunk);
    if (sg.op == SubgraphOp::Head) {
      r.head_weight_bytes += f.weight_bytes;
      r.instances_without_sharing += 1;
    } else {
      r.instances_without_sharing += r.chunks;
      if (sg.is_static) r.shared_weight_bytes += f.weight_bytes;
    }
    if (sg.is_static) {
      ++r.static_subgraphs;
      r.instances_with_sharing += 1;
    } else {
      ++r.dynamic_subgraphs;
      r.instances_with_sharing += r.chunks;
    }
    r.footprints.push_back(f);
  }
  // Chunk::allocate: x, xb, qkv, att and gate_up for every row; the last row's logits once.
  const size_t row_floats = 2 * size_t(config.dim) + size_t(config.q_dim() + 2 * config.kv_dim()) +
                            size_t(config.q_dim()) + 2 * size_t(config.ffn_dim);
  r.chunk_buffer_bytes = size_t(chunk) * row_floats * sizeof(float);
  r.chunks_in_flight = std::min(r.chunks, max_in_flight);
  const size_t common = r.head_weight_bytes + size_t(r.chunks_in_flight) * r.chunk_buffer_bytes +
                        size_t(config.vocab_size) * sizeof(float);
  r.bytes_with_sharing = r.shared_weight_bytes + common;
  r.bytes_without_sharing = size_t(r.chunks) * r.shared_weight_bytes + common;
  return r;
}

}  // namespace llmnpu
