#pragma once
// Runs a model graph: subgraph by subgraph for prompt chunks (prefill), and token by token (decode),
// both over one KV cache. The forward pass of one layer reads like llama2.c's run.c, split at the
// subgraph boundaries the scheduler works with (see graph/subgraph.h).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "backend/cpu_backend.h"
#include "core/thread_pool.h"
#include "graph/chunk.h"
#include "graph/kv_cache.h"
#include "graph/model_graph.h"
#include "model/model.h"

namespace llmnpu {

struct EngineOptions {
  int threads = 0;  // 0 = all cores
  int context = 0;  // 0 = the model's context length
};

// Called with each scored position's logits (perplexity): position, logits[vocab].
using LogitsCallback = std::function<void(int position, const float* logits)>;

class Engine {
 public:
  Engine(const Model& model, const ModelGraph& graph, EngineOptions options);

  const ModelConfig& config() const { return model_.config; }
  const ModelGraph& graph() const { return graph_; }
  int context() const { return context_; }
  int position() const { return position_; }  // tokens in the KV cache
  ThreadPool& pool() { return *pool_; }
  const Backend& accelerator_backend() const { return accelerator_; }
  const Backend& host_backend() const { return host_; }
  KvCache& cache() { return cache_; }

  // Forgets the KV cache (position back to 0).
  void reset() { position_ = 0; }

  // Prefill: appends tokens to the cache in chunks of chunk_len (0 = one chunk), one subgraph after
  // another. Returns the logits of the last token; calls on_logits for every token when given.
  std::vector<float> prefill(const std::vector<int32_t>& tokens, int chunk_len = 0,
                             const LogitsCallback& on_logits = nullptr);
  // Decode: one token at the current position; returns its logits.
  const std::vector<float>& decode(int32_t token);

  // The pieces a scheduler drives. make_chunk embeds tokens at pos0 (rows >= tokens: padded).
  Chunk make_chunk(int index, int pos0, const std::vector<int32_t>& tokens, int rows, bool all_logits) const;
  void run_subgraph(const Subgraph& sg, Chunk& chunk, ThreadPool* pool);
  // Marks tokens [0, end) as in the cache once every chunk up to there has finished.
  void commit_position(int end) { position_ = end; }

 private:
  // The CPU backends compile for this chunk length but accept any row count (decode, one chunk).
  static constexpr int kCompiledChunkRows = 256;
  CpuBackend& backend_for(const Subgraph& sg);
  // chunk.T = tokens.size(), chunk.tokens = tokens and their embeddings in chunk.x (buffers allocated).
  void embed(const std::vector<int32_t>& tokens, Chunk& chunk) const;

  const Model& model_;
  const ModelGraph& graph_;
  int context_;
  std::unique_ptr<ThreadPool> pool_;
  KvCache cache_;
  CpuBackend accelerator_, host_;
  std::vector<std::unique_ptr<CompiledSubgraph>> compiled_;  // static subgraphs, by per-chunk index
  int position_ = 0;
  Chunk decode_chunk_;
  std::vector<int32_t> decode_step_tokens_;  // reused: a decode step allocates nothing
};

}  // namespace llmnpu
