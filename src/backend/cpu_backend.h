#pragma once
// The CPU backends: the same subgraph code for both roles (the linears inside decide int8 or fp32).
// The accelerator-role backend accepts only accelerator subgraphs (integer static graphs), as a
// vendor NPU backend would; the host-role backend runs anything.
#include <vector>

#include "backend/backend.h"
#include "graph/model_graph.h"
#include "kernels/rope.h"
#include "model/model.h"

namespace llmnpu {

class CpuBackend final : public Backend {
 public:
  CpuBackend(const Model& model, const ModelGraph& graph, Role role);

  std::string name() const override;
  bool supports(const Subgraph& subgraph) const override;
  std::unique_ptr<CompiledSubgraph> compile(const Subgraph& subgraph, int chunk_len) override;

  // The forward pass of one layer, split at the subgraph boundaries (reads like llama2.c's run.c).
  void run_qkv(int layer, Chunk& chunk, ThreadPool* pool) const;
  void run_attention(int layer, Chunk& chunk, KvCache& cache, ThreadPool* pool) const;
  void run_o_mlp(int layer, Chunk& chunk, ThreadPool* pool) const;
  void run_head(Chunk& chunk, ThreadPool* pool) const;

 private:
  const Model& model_;
  const ModelGraph& graph_;
  Role role_;
  std::vector<double> inv_freq_;
  kernels::RopePairing pairing_;
};

}  // namespace llmnpu
