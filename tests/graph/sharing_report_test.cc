// `inspect --graph` numbers: weights of static subgraphs are held once with sharing and once per chunk
// without; activation buffers (as Chunk::allocate makes them) and the head count the same on both sides.
#include "graph/sharing_report.h"

#include <gtest/gtest.h>

#include "backend/float_graph.h"
#include "core/error.h"
#include "graph/chunk.h"
#include "model/synth.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

TEST(SharingReport, CountsWeightsOncePerChunkWithoutSharingAndBuffersAlike) {
  SynthOptions o;
  o.shape = "tiny";
  o.seed = 2;
  auto model = synthesize_model(o, builtin_byte_vocab());
  const ModelConfig& c = model->config;
  ModelGraph graph = build_float_graph(*model);

  SharingReport r = sharing_report(graph, c, 100, 32, 4);
  EXPECT_EQ(r.chunks, 4);
  EXPECT_EQ(r.per_chunk_subgraphs, 3 * c.n_layers + 1);
  EXPECT_EQ(r.static_subgraphs, 2 * c.n_layers + 1);
  EXPECT_EQ(r.dynamic_subgraphs, c.n_layers);
  EXPECT_EQ(r.instances_with_sharing, r.static_subgraphs + 4 * r.dynamic_subgraphs);
  EXPECT_EQ(r.instances_without_sharing, 4 * (r.per_chunk_subgraphs - 1) + 1);

  // The per-chunk buffers are exactly what a chunk of 32 rows allocates.
  Chunk chunk;
  chunk.allocate(graph.program, 32);
  EXPECT_EQ(r.chunk_buffer_bytes, chunk.slab.size() * sizeof(float));
  // Every tensor's buffer starts on a cache line and holds its rows.
  for (size_t i = 0; i < graph.program.tensors.size(); ++i) {
    if (int(i) == graph.program.logits) continue;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(chunk.data(int(i))) % 64, 0u);
    const size_t end = i + 1 < chunk.offsets.size() ? chunk.offsets[i + 1] : chunk.slab.size();
    EXPECT_GE(end - chunk.offsets[i], size_t(32) * size_t(graph.program.tensors[i].width));
  }

  // Weights: the layers' linears and norms once, the head once; the difference is the extra copies.
  size_t layer_weights = 0;
  for (const auto& f : r.footprints)
    if (f.subgraph.is_static && !f.subgraph.head) layer_weights += f.weight_bytes;
  EXPECT_EQ(r.shared_weight_bytes, layer_weights);
  EXPECT_GT(r.head_weight_bytes, 0u);
  EXPECT_EQ(r.bytes_without_sharing - r.bytes_with_sharing, 3 * r.shared_weight_bytes);
  EXPECT_GT(r.saved_share(), 0.0);
  EXPECT_LT(r.saved_share(), 0.75);  // at most (chunks - 1) / chunks of the total

  // Fewer chunks in flight: less buffer memory on both sides, the same weights saved.
  SharingReport capped = sharing_report(graph, c, 100, 32, 2);
  EXPECT_EQ(capped.chunks_in_flight, 2);
  EXPECT_EQ(r.bytes_with_sharing - capped.bytes_with_sharing, 2 * r.chunk_buffer_bytes);
  EXPECT_EQ(capped.bytes_without_sharing - capped.bytes_with_sharing, 3 * r.shared_weight_bytes);

  // One chunk: nothing to share.
  SharingReport one = sharing_report(graph, c, 20, 32, 4);
  EXPECT_EQ(one.chunks, 1);
  EXPECT_EQ(one.bytes_with_sharing, one.bytes_without_sharing);
  EXPECT_EQ(one.saved_share(), 0.0);
  EXPECT_THROW(sharing_report(graph, c, 0, 32, 4), Error);
}

}  // namespace
}  // namespace llmnpu
