#include "runtime/engine.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/norm.h"

namespace llmnpu {

static kernels::RopeScalingParams rope_scaling(const ModelConfig& c) {
  kernels::RopeScalingParams p;
  p.factor = c.rope_scaling_factor;
  p.low_freq_factor = c.rope_low_freq_factor;
  p.high_freq_factor = c.rope_high_freq_factor;
  p.original_context = c.rope_original_context;
  switch (c.rope_scaling) {
    case RopeScaling::None: p.kind = kernels::RopeScalingKind::None; break;
    case RopeScaling::Linear: p.kind = kernels::RopeScalingKind::Linear; break;
    case RopeScaling::Llama3: p.kind = kernels::RopeScalingKind::Llama3; break;
  }
  return p;
}

static int resolve_threads(int threads) { return threads > 0 ? threads : ThreadPool::hardware_threads(); }

Engine::Engine(const Model& model, const ModelGraph& graph, EngineOptions options)
    : model_(model),
      graph_(graph),
      context_(options.context > 0 ? options.context : model.config.max_seq_len),
      pool_(std::make_unique<ThreadPool>(resolve_threads(options.threads))),
      cache_(model.config.n_layers, model.config.n_kv_heads, model.config.head_dim, context_),
      inv_freq_(
          kernels::rope_inv_freq(model.config.head_dim, model.config.rope_base, rope_scaling(model.config))),
      pairing_(model.config.rope_layout == RopeLayout::Interleaved ? kernels::RopePairing::Interleaved
                                                                   : kernels::RopePairing::HalfSplit) {
  check(int(graph.layers.size()) == model.config.n_layers, "graph has ", graph.layers.size(),
        " layers, model ", model.config.n_layers);
}

Chunk Engine::make_chunk(int index, int pos0, const std::vector<int32_t>& tokens, int rows,
                         bool all_logits) const {
  const ModelConfig& c = model_.config;
  Chunk chunk;
  chunk.index = index;
  chunk.pos0 = pos0;
  chunk.T = int(tokens.size());
  chunk.tokens = tokens;
  chunk.all_logits = all_logits;
  chunk.allocate(c, std::max(rows, chunk.T));
  for (int t = 0; t < chunk.T; ++t) {
    int32_t id = tokens[size_t(t)];
    check(id >= 0 && id < c.vocab_size, "token id ", id, " is outside the vocabulary of ", c.vocab_size);
    std::memcpy(&chunk.x[size_t(t) * size_t(c.dim)],
                model_.weights.token_embedding + size_t(id) * size_t(c.dim), size_t(c.dim) * sizeof(float));
  }
  return chunk;
}

void Engine::run_subgraph(const Subgraph& sg, Chunk& chunk, ThreadPool* pool) {
  switch (sg.op) {
    case SubgraphOp::Qkv: run_qkv(sg.layer, chunk, pool); break;
    case SubgraphOp::Attention: run_attention(sg.layer, chunk, pool); break;
    case SubgraphOp::OMlp: run_o_mlp(sg.layer, chunk, pool); break;
    case SubgraphOp::Head: run_head(chunk, pool); break;
  }
}

// xb = rmsnorm(x) ; qkv = xb · [Wq|Wk|Wv]^T (+ biases)
void Engine::run_qkv(int layer, Chunk& ch, ThreadPool* pool) {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.weights.layers[size_t(layer)];
  size_t dim = size_t(c.dim), ld = size_t(c.q_dim() + 2 * c.kv_dim());
  kernels::rmsnorm(ch.x.data(), dim, ch.rows, c.dim, w.attn_norm, c.norm_eps, ch.xb.data(), dim, pool);
  graph_.layers[size_t(layer)].qkv->forward(ch.xb.data(), ch.rows, dim, ch.qkv.data(), ld, false, pool);
}

// RoPE on q and k, append k and v to the cache, attend over positions 0..pos0+rows.
void Engine::run_attention(int layer, Chunk& ch, ThreadPool* pool) {
  const ModelConfig& c = model_.config;
  size_t ld = size_t(c.q_dim() + 2 * c.kv_dim());
  float* q = ch.qkv.data();
  float* k = q + c.q_dim();
  float* v = k + c.kv_dim();
  kernels::rope_apply(q, ld, ch.rows, c.n_heads, c.head_dim, ch.pos0, inv_freq_, pairing_);
  kernels::rope_apply(k, ld, ch.rows, c.n_kv_heads, c.head_dim, ch.pos0, inv_freq_, pairing_);
  // Padded rows of a last chunk are cached too (beyond the prompt, overwritten later, never attended by
  // real rows thanks to the causal mask); they must still fit in the context.
  int rows = std::min(ch.rows, context_ - ch.pos0);
  cache_.store(layer, ch.pos0, rows, k, ld, v, ld);

  kernels::AttentionArgs a;
  a.q = q;
  a.q_row_stride = ld;
  a.T = rows;
  a.q_start = ch.pos0;
  a.k = cache_.keys(layer);
  a.v = cache_.values(layer);
  a.kv_head_stride = cache_.head_stride();
  a.kv_pos_stride = cache_.pos_stride();
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.out = ch.att.data();
  a.out_row_stride = size_t(c.q_dim());
  kernels::causal_attention(a, pool);
}

// x += att · Wo^T ; xb = rmsnorm(x) ; h = silu(xb · Wg^T) * (xb · Wu^T) ; x += h · Wd^T
void Engine::run_o_mlp(int layer, Chunk& ch, ThreadPool* pool) {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.weights.layers[size_t(layer)];
  const LayerLinears& ops = graph_.layers[size_t(layer)];
  size_t dim = size_t(c.dim), ffn = size_t(c.ffn_dim);
  ops.o->forward(ch.att.data(), ch.rows, size_t(c.q_dim()), ch.x.data(), dim, true, pool);
  kernels::rmsnorm(ch.x.data(), dim, ch.rows, c.dim, w.ffn_norm, c.norm_eps, ch.xb.data(), dim, pool);
  ops.gate_up->forward(ch.xb.data(), ch.rows, dim, ch.gate_up.data(), 2 * ffn, false, pool);
  for (int t = 0; t < ch.rows; ++t) {
    const float* gu = ch.gate_up.data() + size_t(t) * 2 * ffn;
    kernels::silu_mul(gu, gu + ffn, ch.hidden.data() + size_t(t) * ffn, ffn);
  }
  ops.down->forward(ch.hidden.data(), ch.rows, ffn, ch.x.data(), dim, true, pool);
}

// logits = rmsnorm(x) · Wout^T for the last real row, or for every real row.
void Engine::run_head(Chunk& ch, ThreadPool* pool) {
  const ModelConfig& c = model_.config;
  size_t dim = size_t(c.dim);
  int first = ch.all_logits ? 0 : ch.T - 1;
  int n = ch.T - first;
  if (n <= 0) return;
  const float* x = ch.x.data() + size_t(first) * dim;
  kernels::rmsnorm(x, dim, n, c.dim, model_.weights.output_norm, c.norm_eps, ch.xb.data(), dim, pool);
  ch.logits.assign(size_t(n) * size_t(c.vocab_size), 0.0f);
  graph_.head->forward(ch.xb.data(), n, dim, ch.logits.data(), size_t(c.vocab_size), false, pool);
}

std::vector<float> Engine::prefill(const std::vector<int32_t>& tokens, int chunk_len,
                                   const LogitsCallback& on_logits) {
  check(!tokens.empty(), "the prompt is empty");
  check(position_ + int(tokens.size()) <= context_, "prompt of ", tokens.size(), " tokens (", position_,
        " already cached) does not fit in the context of ", context_, " tokens");
  int n = int(tokens.size());
  int step = chunk_len > 0 ? chunk_len : n;
  std::vector<float> last;
  for (int begin = 0, index = 0; begin < n; begin += step, ++index) {
    int end = std::min(n, begin + step);
    std::vector<int32_t> part(tokens.begin() + begin, tokens.begin() + end);
    bool all = bool(on_logits);
    // Pad to the fixed chunk length (static shapes), unless that would run past the context.
    int rows = chunk_len > 0 ? std::min(chunk_len, context_ - (position_ + begin)) : end - begin;
    Chunk chunk = make_chunk(index, position_ + begin, part, rows, all);
    for (const Subgraph& sg : graph_.chunk_subgraphs) {
      if (sg.op == SubgraphOp::Head && !all && end != n) continue;  // no logits needed mid-prompt
      run_subgraph(sg, chunk, pool_.get());
    }
    size_t vocab = size_t(model_.config.vocab_size);
    if (all)
      for (int t = 0; t < chunk.T; ++t) on_logits(chunk.pos0 + t, chunk.logits.data() + size_t(t) * vocab);
    if (end == n) last.assign(chunk.logits.end() - long(vocab), chunk.logits.end());
  }
  position_ += n;
  return last;
}

const std::vector<float>& Engine::decode(int32_t token) {
  check(position_ < context_, "context of ", context_, " tokens is full");
  decode_chunk_ = make_chunk(0, position_, {token}, 1, false);
  for (const Subgraph& sg : graph_.chunk_subgraphs) run_subgraph(sg, decode_chunk_, pool_.get());
  ++position_;
  decode_logits_ = decode_chunk_.logits;
  return decode_logits_;
}

}  // namespace llmnpu
