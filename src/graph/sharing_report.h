#pragma once
// What chunk sharing saves: a static subgraph is compiled once for the chunk length and its weights serve
// every chunk, while a graph built per chunk (what a static-shape NPU SDK needs without sharing) holds its
// own copy of the weights for each chunk. Both designs need the same activation buffers: the runtime
// gives every chunk in flight its own (graph/chunk.h), at most max_in_flight chunks at a time, counted
// alike on both sides. The head runs for the last chunk only: its weights count once on both sides.
#include <cstddef>
#include <string>
#include <vector>

#include "graph/model_graph.h"
#include "model/config.h"

namespace llmnpu {

struct SubgraphFootprint {
  Subgraph subgraph;
  size_t weight_bytes = 0;  // resident weights the compiled subgraph holds
  size_t buffer_bytes = 0;  // the chunk buffers it reads or writes (buffers are shared between subgraphs)
};

struct SharingReport {
  int prompt = 0, chunk = 0, chunks = 0;
  int per_chunk_subgraphs = 0;
  int static_subgraphs = 0, dynamic_subgraphs = 0;
  int instances_without_sharing = 0;  // chunks x per-chunk subgraphs (the head once)
  int instances_with_sharing = 0;     // static once + dynamic per chunk
  size_t shared_weight_bytes = 0;     // static subgraphs except the head: once with sharing
  size_t head_weight_bytes = 0;       // once either way
  size_t chunk_buffer_bytes = 0;      // one chunk's activation buffers (per chunk either way)
  int chunks_in_flight = 0;           // min(chunks, max_in_flight): buffers that can exist at once
  size_t bytes_without_sharing = 0;
  size_t bytes_with_sharing = 0;
  std::vector<SubgraphFootprint> footprints;
  double saved_share() const {
    return bytes_without_sharing ? 1.0 - double(bytes_with_sharing) / double(bytes_without_sharing) : 0;
  }
};

SharingReport sharing_report(const ModelGraph& graph, const ModelConfig& config, int prompt, int chunk,
                             int max_in_flight);

}  // namespace llmnpu
