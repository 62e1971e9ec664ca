#include "graph/sharing_report.h"

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

SharingReport sharing_report(const ModelGraph& graph, const ModelConfig& config, int prompt, int chunk) {
  check(prompt > 0 && chunk > 0, "prompt and chunk lengths must be positive");
  SharingReport r;
  r.prompt = prompt;
  r.chunk = chunk;
  r.chunks = (prompt + chunk - 1) / chunk;
  r.per_chunk_subgraphs = int(graph.chunk_subgraphs.size());
  for (const Subgraph& sg : graph.chunk_subgraphs) {
    SubgraphFootprint f = footprint(sg, graph, config, chunk);
    size_t bytes = f.weight_bytes + f.buffer_bytes;
    r.bytes_without_sharing += bytes * size_t(r.chunks);
    if (sg.is_static) {
      ++r.static_subgraphs;
      r.bytes_with_sharing += bytes;
      r.instances_with_sharing += 1;
    } else {
      ++r.dynamic_subgraphs;
      r.bytes_with_sharing += bytes * size_t(r.chunks);
      r.instances_with_sharing += r.chunks;
    }
    r.footprints.push_back(f);
  }
  r.instances_without_sharing = r.chunks * r.per_chunk_subgraphs;
  return r;
}

}  // namespace llmnpu
