#pragma once
// The seam where an accelerator plugs in. A Backend compiles a subgraph for a fixed chunk length once
// and then executes it many times: static subgraphs (int8 linears) are compiled once per model and
// shared by every chunk; dynamic ones (attention, whose key count depends on the chunk's position) are
// instantiated per chunk. A vendor NPU SDK (QNN, NeuroPilot, OpenVINO NPU) would implement this
// interface: compile() builds and finalizes the vendor graph for the chunk shape, execute() binds the
// chunk's buffers and runs it. Here both roles are CPU backends (see docs/backend.md).
#include <memory>
#include <string>

#include "core/thread_pool.h"
#include "graph/chunk.h"
#include "graph/kv_cache.h"
#include "graph/subgraph.h"

namespace llmnpu {

class CompiledSubgraph {
 public:
  virtual ~CompiledSubgraph() = default;
  // Runs the subgraph on one chunk. Static subgraphs read and write only the chunk's buffers;
  // attention also reads and appends the KV cache.
  virtual void execute(Chunk& chunk, KvCache& cache, ThreadPool* pool) = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Which processor this backend drives, in words ("CPU cores, int8 kernels (AVX-512 VNNI)").
  virtual std::string name() const = 0;
  // Whether the backend can run this subgraph (an integer accelerator refuses float subgraphs).
  virtual bool supports(const Subgraph& subgraph) const = 0;
  // Compiles for chunks of chunk_len rows. Throws Error if unsupported.
  virtual std::unique_ptr<CompiledSubgraph> compile(const Subgraph& subgraph, int chunk_len) = 0;
};

}  // namespace llmnpu
