#include "graph/sharing_report.h"

#include <algorithm>

#include "core/error.h"
#include "graph/chunk.h"

namespace llmnpu {

// Weights the subgraph's ops name (linears and norm vectors) and the chunk tensors they touch.
static SubgraphFootprint footprint(const Subgraph& sg, const ModelGraph& g, int chunk) {
  SubgraphFootprint f;
  f.subgraph = sg;
  std::vector<bool> touched(g.program.tensors.size(), false);
  for (const Op& op : sg.ops) {
    if (op.kind == OpKind::Linear) f.weight_bytes += g.linear(op.weight).weight_bytes();
    for (const WeightRef* ref : {&op.weight, &op.bias})
      if ((op.kind == OpKind::RmsNorm || op.kind == OpKind::LayerNorm) && !ref->empty())
        f.weight_bytes += size_t(g.weight_vector(*ref).size) * sizeof(float);
    for (const View& v : op.in) touched[size_t(v.tensor)] = true;
    if (op.out.tensor >= 0) touched[size_t(op.out.tensor)] = true;
  }
  for (size_t t = 0; t < touched.size(); ++t)
    if (touched[t]) f.buffer_bytes += size_t(chunk) * size_t(g.program.tensors[t].width) * sizeof(float);
  return f;
}

SharingReport sharing_report(const ModelGraph& graph, const ModelConfig& config, int prompt, int chunk,
                             int max_in_flight) {
  check(prompt > 0 && chunk > 0 && max_in_flight > 0,
        "prompt and chunk lengths and chunks in flight must be positive");
  // Instance counts are ints: chunks x subgraphs must fit.
  const int64_t chunks = (int64_t(prompt) + chunk - 1) / chunk;
  check(chunks * int64_t(graph.chunk_subgraphs.size() + 1) < (int64_t(1) << 30), "a prompt of ", prompt,
        " tokens in chunks of ", chunk, " is too many chunks (", chunks, ") to count instances of");
  SharingReport r;
  r.prompt = prompt;
  r.chunk = chunk;
  r.chunks = (prompt + chunk - 1) / chunk;
  r.per_chunk_subgraphs = int(graph.chunk_subgraphs.size());
  for (const Subgraph& sg : graph.chunk_subgraphs) {
    SubgraphFootprint f = footprint(sg, graph, chunk);
    if (sg.head) {
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
  // Chunk::allocate: every program tensor for every row; the last row's logits once.
  r.chunk_buffer_bytes = chunk_buffer_floats(graph.program, chunk) * sizeof(float);
  r.chunks_in_flight = std::min(r.chunks, max_in_flight);
  const size_t common = r.head_weight_bytes + size_t(r.chunks_in_flight) * r.chunk_buffer_bytes +
                        size_t(config.vocab_size) * sizeof(float);
  r.bytes_with_sharing = r.shared_weight_bytes + common;
  r.bytes_without_sharing = size_t(r.chunks) * r.shared_weight_bytes + common;
  return r;
}

}  // namespace llmnpu
