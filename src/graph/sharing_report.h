#pragma once
// What chunk sharing saves: a static subgraph is compiled once for the chunk length and serves every
// chunk, while a graph built per chunk (what a static-shape NPU SDK needs without sharing) repeats its
// weights and buffers for each chunk. Dynamic subgraphs (attention) are per chunk either way.
#include <cstddef>
#include <string>
#include <vector>

#include "graph/model_graph.h"
#include "model/config.h"

namespace llmnpu {

struct SubgraphFootprint {
  Subgraph subgraph;
  size_t weight_bytes = 0;  // resident weights the compiled subgraph holds
  size_t buffer_bytes = 0;  // activation buffers planned for one chunk
};

struct SharingReport {
  int prompt = 0, chunk = 0, chunks = 0;
  int per_chunk_subgraphs = 0;
  int static_subgraphs = 0, dynamic_subgraphs = 0;
  int instances_without_sharing = 0;  // chunks x per-chunk subgraphs
  int instances_with_sharing = 0;     // static once + dynamic per chunk
  size_t bytes_without_sharing = 0;
  size_t bytes_with_sharing = 0;
  std::vector<SubgraphFootprint> footprints;
  double saved_share() const {
    return bytes_without_sharing ? 1.0 - double(bytes_with_sharing) / double(bytes_without_sharing) : 0;
  }
};

SharingReport sharing_report(const ModelGraph& graph, const ModelConfig& config, int prompt, int chunk);

}  // namespace llmnpu
