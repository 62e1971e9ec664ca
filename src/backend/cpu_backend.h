#pragma once
// The CPU backends: one compiler of layer programs for both roles (the linears inside decide int8 or
// fp32). Compiling turns a subgraph's ops into steps, recognizing the patterns that have fused fast
// paths: a linear whose output is only added into the residual writes it in its epilogue; a SiLU-gated
// product feeding a linear is folded into that linear's quantizer (LinearOp::forward_swiglu); RoPE
// followed by attention rotates and appends to the KV cache in one pass. Every other op runs its kernel.
// The accelerator-role backend accepts only static subgraphs marked for the accelerator (integer static
// graphs), as a vendor NPU backend would; the host-role backend runs anything it has kernels for.
#include "backend/backend.h"

namespace llmnpu {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(Role role) : role_(role) {}

  std::string name() const override;
  std::string unsupported(const Subgraph& subgraph, const ModelGraph& weights) const override;
  std::unique_ptr<CompiledSubgraph> compile(const Subgraph& subgraph, const ModelGraph& weights,
                                            int chunk_len) override;

 private:
  Role role_;
};

}  // namespace llmnpu
