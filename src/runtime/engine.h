#pragma once
// Runs a model graph: subgraph by subgraph for prompt chunks (prefill), and token by token (decode),
// both over one KV cache. Subgraphs are the layer program's ops cut where the scheduler works
// (graph/subgraph.h), compiled by the accelerator's or the host's backend.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "backend/cpu_backend.h"
#include "core/thread_pool.h"
#include "graph/chunk.h"
#include "graph/kv_cache.h"
#include "graph/model_graph.h"
#include "model/model.h"
#include "runtime/trace.h"

namespace llmnpu {

// Makes the accelerator role's backend: the seam where a vendor NPU SDK plugs in (docs/backend.md).
// It receives the graph (program and weights) it will be asked to compile subgraphs of.
using BackendFactory = std::function<std::unique_ptr<Backend>(const ModelGraph&)>;

struct EngineOptions {
  int threads = 0;             // 0 = all cores
  int context = 0;             // 0 = the model's context length
  BackendFactory accelerator;  // null = CPU cores running the integer kernels (CpuBackend)
};

// Called with each scored position's logits (perplexity): position, logits[vocab].
using LogitsCallback = std::function<void(int position, const float* logits)>;
// Called with a chunk's logits once all of them are computed: first position, rows, logits[rows][vocab].
using ChunkLogitsCallback = std::function<void(int first_position, int rows, const float* logits)>;

class Engine {
 public:
  Engine(const Model& model, const ModelGraph& graph, EngineOptions options);

  const ModelConfig& config() const { return model_.config; }
  const ModelGraph& graph() const { return graph_; }
  int context() const { return context_; }
  int position() const { return position_; }  // tokens in the KV cache
  ThreadPool& pool() { return *pool_; }
  const Backend& accelerator_backend() const { return *accelerator_; }
  const Backend& host_backend() const { return *host_; }
  KvCache& cache() { return cache_; }

  // Forgets the KV cache (position back to 0).
  void reset() { position_ = 0; }
  // Keeps only the first `position` tokens of the KV cache (a shared prefix with the next prompt).
  void rewind(int position);

  // Prefill: appends tokens to the cache in chunks of chunk_len (0 = one chunk), one subgraph after
  // another. Returns the logits of the last token; calls on_logits for every token when given.
  // trace: one lane (every core runs each subgraph in turn), a slice per subgraph run.
  std::vector<float> prefill(const std::vector<int32_t>& tokens, int chunk_len = 0,
                             const LogitsCallback& on_logits = nullptr, Trace* trace = nullptr);
  // The same, handing every position's logits over a chunk at a time (the engine's pool is idle during
  // the call, so the callback may use it).
  std::vector<float> prefill_chunk_logits(const std::vector<int32_t>& tokens, int chunk_len,
                                          const ChunkLogitsCallback& on_chunk);
  // Several independent sequences, each from position 0, in one chunk without logits (calibration): the
  // row-wise subgraphs (norms, linears, activations) run once over every sequence's rows, so each weight is
  // streamed once per call instead of once per sequence; the position-dependent ones (RoPE, attention)
  // run sequence by sequence on views of the chunk. Each sequence's rows compute what a prefill of it
  // alone computes. Leaves the KV cache empty (position 0).
  void prefill_independent(const std::vector<std::vector<int32_t>>& sequences);
  // Decode: one token at the current position; returns its logits.
  const std::vector<float>& decode(int32_t token);

  // The pieces a scheduler drives. compile_for compiles every static subgraph for chunks of `rows` rows
  // on its role's backend, once (call it before chunks of that shape run: run_subgraph does not compile
  // static subgraphs, so concurrent processors never race on it). make_chunk embeds tokens at pos0
  // (rows >= tokens: padded), in `buffers` when a finished chunk gave them back (Chunk::allocate).
  void compile_for(int rows);
  Chunk make_chunk(int index, int pos0, const std::vector<int32_t>& tokens, int rows, bool all_logits,
                   AlignedArray<float> buffers = {}) const;
  // shadow: where int8 linears send their float shadow work (null: they add it themselves).
  void run_subgraph(const Subgraph& sg, Chunk& chunk, ThreadPool* pool, ShadowSink* shadow = nullptr);
  // Marks tokens [0, end) as in the cache once every chunk up to there has finished.
  void commit_position(int end) { position_ = end; }

 private:
  std::vector<float> prefill_chunks(const std::vector<int32_t>& tokens, int chunk_len,
                                    const ChunkLogitsCallback* on_logits, Trace* trace);
  Backend& backend_for(const Subgraph& sg);
  // Decode steps and unchunked prefill: every subgraph from host_compiled_.
  void run_on_host(const Subgraph& sg, Chunk& chunk);
  // chunk.T = tokens.size(), chunk.tokens = tokens and their embeddings in chunk.x (buffers allocated).
  void embed(const std::vector<int32_t>& tokens, Chunk& chunk) const;

  const Model& model_;
  const ModelGraph& graph_;
  int context_;
  std::unique_ptr<ThreadPool> pool_;
  KvCache cache_;
  std::unique_ptr<Backend> accelerator_, host_;
  // Static subgraphs compiled for a chunk length, by per-chunk index (null for dynamic ones).
  std::map<int, std::vector<std::unique_ptr<CompiledSubgraph>>> compiled_;
  // Every subgraph compiled on the host, which runs any row count: decode and unchunked prefill.
  std::vector<std::unique_ptr<CompiledSubgraph>> host_compiled_;
  int position_ = 0;
  Chunk decode_chunk_;
  AlignedArray<float> spare_slab_;           // the last prefill's chunk buffers, for the next one
  std::vector<float> spare_logits_;          // and its logits storage
  std::vector<int32_t> decode_step_tokens_;  // reused: a decode step allocates nothing
};

}  // namespace llmnpu
