#include "runtime/engine.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/timer.h"

namespace llmnpu {

static int resolve_threads(int threads) { return threads > 0 ? threads : ThreadPool::hardware_threads(); }

Engine::Engine(const Model& model, const ModelGraph& graph, EngineOptions options)
    : model_(model),
      graph_(graph),
      context_(options.context > 0 ? options.context : model.config.max_seq_len),
      pool_(std::make_unique<ThreadPool>(resolve_threads(options.threads))),
      cache_(model.config.n_layers, model.config.n_kv_heads, model.config.head_dim, context_),
      accelerator_(options.accelerator ? options.accelerator(graph)
                                       : std::make_unique<CpuBackend>(Role::Accelerator)),
      host_(std::make_unique<CpuBackend>(Role::Host)) {
  check(accelerator_ != nullptr, "the accelerator backend factory returned no backend");
  // Every subgraph must compile on its backend, and on the host (decode and unchunked prefill): checked
  // here, at load, with the backend's reason naming the op.
  for (const Subgraph& sg : graph.chunk_subgraphs) {
    if (sg.role == Role::Accelerator) {
      const std::string why = accelerator_->unsupported(sg, graph);
      check(why.empty(), accelerator_->name(), " cannot run subgraph ", sg.name(), ": ", why);
    }
    const std::string why = host_->unsupported(sg, graph);
    check(why.empty(), host_->name(), " cannot run subgraph ", sg.name(), ": ", why);
  }
  // Static subgraphs are compiled once per chunk length, before the first chunk of that length runs
  // (compile_for); dynamic ones per chunk (run_subgraph). The host, the CPU, runs any row count and reads
  // positions from the chunk: it has every subgraph compiled once more for the unchunked work, decode
  // steps and --chunk 0 (no compile per decode step).
  host_compiled_.resize(graph.chunk_subgraphs.size());
  for (const Subgraph& sg : graph.chunk_subgraphs)
    host_compiled_[size_t(sg.index)] = host_->compile(sg, graph, 1);
}

void Engine::run_on_host(const Subgraph& sg, Chunk& chunk) {
  ExecContext context{cache_, pool_.get(), nullptr};
  host_compiled_[size_t(sg.index)]->execute(chunk, context);
}

Backend& Engine::backend_for(const Subgraph& sg) {
  return sg.role == Role::Accelerator ? *accelerator_ : *host_;
}

void Engine::compile_for(int rows) {
  check(rows > 0, "chunk length must be positive");
  auto [it, inserted] = compiled_.try_emplace(rows);
  if (!inserted) return;
  it->second.resize(graph_.chunk_subgraphs.size());
  for (const Subgraph& sg : graph_.chunk_subgraphs)
    if (sg.is_static) it->second[size_t(sg.index)] = backend_for(sg).compile(sg, graph_, rows);
}

Chunk Engine::make_chunk(int index, int pos0, const std::vector<int32_t>& tokens, int rows, bool all_logits,
                         AlignedArray<float> buffers) const {
  Chunk chunk;
  chunk.index = index;
  chunk.pos0 = pos0;
  chunk.all_logits = all_logits;
  chunk.allocate(graph_.program, std::max(rows, int(tokens.size())), std::move(buffers));
  embed(tokens, chunk);
  return chunk;
}

// The program's embed op: rows of the table (times its scale) into the residual stream.
void Engine::embed(const std::vector<int32_t>& tokens, Chunk& chunk) const {
  const Op& op = graph_.program.embed;
  const size_t dim = size_t(op.out.cols), ld = size_t(graph_.program.tensor(op.out.tensor).width);
  const EmbeddingRows& rows = graph_.embedding;
  const VectorWeight table = rows.row ? VectorWeight{} : graph_.weight_vector(op.weight);
  const int vocab = rows.row ? rows.vocab : int(size_t(table.size) / dim);
  chunk.T = int(tokens.size());
  chunk.tokens = tokens;
  for (int t = 0; t < chunk.T; ++t) {
    int32_t id = tokens[size_t(t)];
    check(id >= 0 && id < vocab, "token id ", id, " is outside the vocabulary of ", vocab);
    float* row = chunk.at(op.out) + size_t(t) * ld;
    if (rows.row)
      rows.row(id, row);
    else
      std::memcpy(row, table.data + size_t(id) * dim, dim * sizeof(float));
    if (op.scale != 1)
      for (size_t i = 0; i < dim; ++i) row[i] *= op.scale;
  }
}

void Engine::run_subgraph(const Subgraph& sg, Chunk& chunk, ThreadPool* pool, ShadowSink* shadow) {
  ExecContext context{cache_, pool, shadow};
  if (sg.is_static) {
    auto it = compiled_.find(chunk.rows);
    check(it != compiled_.end(), "no subgraphs compiled for chunks of ", chunk.rows, " rows");
    it->second[size_t(sg.index)]->execute(chunk, context);
  } else {
    backend_for(sg).compile(sg, graph_, chunk.rows)->execute(chunk, context);  // instantiated for this chunk
  }
}

void Engine::rewind(int position) {
  check(position >= 0 && position <= position_, "rewind to ", position, " outside the ", position_,
        " tokens in the KV cache");
  position_ = position;
}

std::vector<float> Engine::prefill(const std::vector<int32_t>& tokens, int chunk_len,
                                   const LogitsCallback& on_logits, Trace* trace) {
  if (!on_logits) return prefill_chunks(tokens, chunk_len, nullptr, trace);
  const size_t vocab = size_t(model_.config.vocab_size);
  const ChunkLogitsCallback each = [&](int pos0, int rows, const float* logits) {
    for (int t = 0; t < rows; ++t) on_logits(pos0 + t, logits + size_t(t) * vocab);
  };
  return prefill_chunks(tokens, chunk_len, &each, trace);
}

std::vector<float> Engine::prefill_chunk_logits(const std::vector<int32_t>& tokens, int chunk_len,
                                                const ChunkLogitsCallback& on_chunk) {
  check(bool(on_chunk), "prefill_chunk_logits needs a callback");
  return prefill_chunks(tokens, chunk_len, &on_chunk, nullptr);
}

std::vector<float> Engine::prefill_chunks(const std::vector<int32_t>& tokens, int chunk_len,
                                          const ChunkLogitsCallback* on_logits, Trace* trace) {
  check(!tokens.empty(), "the prompt is empty");
  check(position_ + int(tokens.size()) <= context_, "prompt of ", tokens.size(), " tokens (", position_,
        " already cached) does not fit in the context of ", context_, " tokens");
  check(chunk_len >= 0 && chunk_len <= context_, "chunk length ", chunk_len,
        " must be from 0 to the context of ", context_, " tokens");
  int n = int(tokens.size());
  int step = chunk_len > 0 ? chunk_len : n;
  std::vector<float> last;
  if (trace) trace->set_lanes({"all cores"});
  const double origin = now_seconds();
  // The previous chunk's (or call's) buffers and logits, reused by the next: no allocation and no page
  // faults per chunk (the logits of 128 rows of a 152k vocabulary are 78 MB).
  AlignedArray<float> buffers = std::move(spare_slab_);
  for (int begin = 0, index = 0; begin < n; begin += step, ++index) {
    int end = std::min(n, begin + step);
    std::vector<int32_t> part(tokens.begin() + begin, tokens.begin() + end);
    bool all = on_logits != nullptr;
    // Chunks have the fixed chunk length (static shapes; the last one padded); one chunk of the whole
    // prompt (chunk_len 0) runs on the host, which takes any length.
    const int rows = chunk_len > 0 ? chunk_len : end - begin;
    if (chunk_len > 0) compile_for(rows);
    Chunk chunk = make_chunk(index, position_ + begin, part, rows, all, std::move(buffers));
    chunk.logits = std::move(spare_logits_);
    for (const Subgraph& sg : graph_.chunk_subgraphs) {
      if (sg.head && !all && end != n) continue;  // no logits needed mid-prompt
      const double start = now_seconds();
      if (chunk_len > 0)
        run_subgraph(sg, chunk, pool_.get());
      else
        run_on_host(sg, chunk);
      if (trace)
        trace->add({0, sg.name(), index, sg.layer, sg.is_static ? "static" : "dynamic", start - origin,
                    now_seconds() - start});
    }
    size_t vocab = size_t(model_.config.vocab_size);
    if (all) (*on_logits)(chunk.pos0, chunk.T, chunk.logits.data());
    if (end == n) last.assign(chunk.logits.end() - long(vocab), chunk.logits.end());
    buffers = chunk.take_activations();
    spare_logits_ = std::move(chunk.logits);
  }
  spare_slab_ = std::move(buffers);
  position_ += n;
  return last;
}

void Engine::prefill_independent(const std::vector<std::vector<int32_t>>& sequences) {
  std::vector<int32_t> all;
  for (const auto& s : sequences) {
    check(!s.empty(), "an empty sequence");
    check(int(s.size()) <= context_, "sequence of ", s.size(), " tokens does not fit in the context of ",
          context_, " tokens");
    all.insert(all.end(), s.begin(), s.end());
  }
  if (all.empty()) return;
  position_ = 0;
  Chunk chunk = make_chunk(0, 0, all, int(all.size()), false, std::move(spare_slab_));
  for (const Subgraph& sg : graph_.chunk_subgraphs) {
    if (sg.head) continue;
    if (sg.is_static) {  // row-wise ops only: RoPE and attention make the dynamic subgraphs
      run_on_host(sg, chunk);
      continue;
    }
    int row0 = 0;
    for (const auto& s : sequences) {
      Chunk part = chunk.rows_view(graph_.program, row0, int(s.size()), 0);
      run_on_host(sg, part);
      row0 += int(s.size());
    }
  }
  spare_slab_ = chunk.take_activations();
}

const std::vector<float>& Engine::decode(int32_t token) {
  check(position_ < context_, "context of ", context_, " tokens is full");
  // One row, buffers kept from the previous step: a decode step allocates nothing.
  if (decode_chunk_.rows != 1) decode_chunk_.allocate(graph_.program, 1);
  decode_chunk_.pos0 = position_;
  decode_step_tokens_.assign(1, token);
  embed(decode_step_tokens_, decode_chunk_);
  for (const Subgraph& sg : graph_.chunk_subgraphs) run_on_host(sg, decode_chunk_);
  ++position_;
  return decode_chunk_.logits;
}

}  // namespace llmnpu
