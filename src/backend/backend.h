#pragma once
// The seam where an accelerator plugs in. A Backend compiles a subgraph's program (graph/program.h) for
// a fixed chunk length once and then executes it many times: static subgraphs (norms, int8 linears,
// activations, residual adds) are compiled once per chunk length and shared by every chunk; dynamic
// ones (RoPE and attention, whose key count depends on the chunk's position) are instantiated per chunk.
// A backend sees the ops and the weights they name (ModelGraph::linear / weight_vector: the int8
// matrix, its scales, biases, shadow weights), never the model's config. A vendor NPU SDK (QNN,
// NeuroPilot, OpenVINO NPU) would implement this interface: compile() builds and finalizes the vendor
// graph for the chunk shape, execute() binds the chunk's buffers and runs it. Here both roles are CPU
// backends (see docs/backend.md).
#include <memory>
#include <string>

#include "core/thread_pool.h"
#include "graph/chunk.h"
#include "graph/kv_cache.h"
#include "graph/model_graph.h"
#include "graph/shadow_sink.h"
#include "graph/subgraph.h"

namespace llmnpu {

// What an execution may use besides the chunk: the KV cache (attention), the processor's threads, and
// where shadow work (the float part of int8 linears) goes. shadow null = the linear adds it itself.
struct ExecContext {
  KvCache& cache;
  ThreadPool* pool = nullptr;
  ShadowSink* shadow = nullptr;
};

class CompiledSubgraph {
 public:
  virtual ~CompiledSubgraph() = default;
  // Runs the subgraph on one chunk. Static subgraphs read and write only the chunk's buffers;
  // attention also reads and appends the KV cache.
  virtual void execute(Chunk& chunk, ExecContext& context) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Which processor this backend drives, in words ("CPU cores, int8 kernels (AVX-512 VNNI)").
  virtual std::string name() const = 0;
  // Empty when the backend can run this subgraph's program with these weights; else why not, naming
  // the op (an integer accelerator refuses float or position-dependent subgraphs).
  virtual std::string unsupported(const Subgraph& subgraph, const ModelGraph& weights) const = 0;
  bool supports(const Subgraph& subgraph, const ModelGraph& weights) const {
    return unsupported(subgraph, weights).empty();
  }
  // Compiles for chunks of chunk_len rows. Throws Error if unsupported.
  virtual std::unique_ptr<CompiledSubgraph> compile(const Subgraph& subgraph, const ModelGraph& weights,
                                                    int chunk_len) = 0;
};

}  // namespace llmnpu
