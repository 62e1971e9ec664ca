#include "backend/cpu_backend.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/int8_gemm.h"
#include "kernels/norm.h"

namespace llmnpu {

namespace {

kernels::RopeScalingParams rope_scaling(const ModelConfig& c) {
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

// A subgraph bound to the backend's code for one op and layer. On the CPU, "compiling" plans nothing
// beyond this binding: weights were packed when the graph's linears were built, and buffers belong to
// the chunk.
class CpuSubgraph final : public CompiledSubgraph {
 public:
  CpuSubgraph(const CpuBackend& backend, Subgraph sg) : backend_(backend), sg_(sg) {}
  void execute(Chunk& chunk, KvCache& cache, ThreadPool* pool) override {
    switch (sg_.op) {
      case SubgraphOp::Qkv: backend_.run_qkv(sg_.layer, chunk, pool); break;
      case SubgraphOp::Attention: backend_.run_attention(sg_.layer, chunk, cache, pool); break;
      case SubgraphOp::OMlp: backend_.run_o_mlp(sg_.layer, chunk, pool); break;
      case SubgraphOp::Head: backend_.run_head(chunk, pool); break;
    }
  }

 private:
  const CpuBackend& backend_;
  Subgraph sg_;
};

}  // namespace

CpuBackend::CpuBackend(const Model& model, const ModelGraph& graph, Role role)
    : model_(model),
      graph_(graph),
      role_(role),
      inv_freq_(
          kernels::rope_inv_freq(model.config.head_dim, model.config.rope_base, rope_scaling(model.config))),
      pairing_(model.config.rope_layout == RopeLayout::Interleaved ? kernels::RopePairing::Interleaved
                                                                   : kernels::RopePairing::HalfSplit) {
  check(int(graph.layers.size()) == model.config.n_layers, "graph has ", graph.layers.size(),
        " layers, model ", model.config.n_layers);
}

std::string CpuBackend::name() const {
  if (role_ == Role::Accelerator)
    return str("accelerator role: CPU cores, integer kernels (", int8_kernel_name(best_int8_kernel()), ")");
  return "host role: CPU cores, float kernels";
}

bool CpuBackend::supports(const Subgraph& sg) const {
  if (role_ == Role::Host) return true;
  return sg.role == Role::Accelerator && sg.is_static;
}

std::unique_ptr<CompiledSubgraph> CpuBackend::compile(const Subgraph& sg, int chunk_len) {
  check(supports(sg), name(), " cannot run subgraph ", sg.name());
  check(chunk_len > 0, "chunk length must be positive");
  return std::make_unique<CpuSubgraph>(*this, sg);
}

// The chunk's buffers have the static (padded) shape; the CPU backends compute only its real rows T.
// Padding rows are masked out of every real result anyway, and computing them here would only cost time
// (their garbage activations are also full of outliers). A static-shape NPU computes them.

// xb = rmsnorm(x) ; qkv = xb · [Wq|Wk|Wv]^T (+ biases)
void CpuBackend::run_qkv(int layer, Chunk& ch, ThreadPool* pool) const {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.weights.layers[size_t(layer)];
  size_t dim = size_t(c.dim), ld = size_t(c.q_dim() + 2 * c.kv_dim());
  kernels::rmsnorm(ch.x.data(), dim, ch.T, c.dim, w.attn_norm, c.norm_eps, ch.xb.data(), dim, pool);
  graph_.layers[size_t(layer)].qkv->forward(ch.xb.data(), ch.T, dim, ch.qkv.data(), ld, false, pool);
}

// RoPE on q and k, append k and v to the cache, attend over positions 0..pos0+rows.
void CpuBackend::run_attention(int layer, Chunk& ch, KvCache& cache, ThreadPool* pool) const {
  const ModelConfig& c = model_.config;
  size_t ld = size_t(c.q_dim() + 2 * c.kv_dim());
  float* q = ch.qkv.data();
  float* k = q + c.q_dim();
  float* v = k + c.kv_dim();
  int rows = std::min(ch.T, cache.capacity() - ch.pos0);
  // RoPE and the cache append, rows split over the threads (the same split for every layer, so each
  // thread's kept cos/sin table serves all of a chunk's layers).
  auto rotate_and_store = [&](size_t t0, size_t t1) {
    const size_t off = t0 * ld;
    const int n = int(t1 - t0), pos = ch.pos0 + int(t0);
    kernels::rope_apply(q + off, ld, n, c.n_heads, c.head_dim, pos, inv_freq_, pairing_);
    kernels::rope_apply(k + off, ld, n, c.n_kv_heads, c.head_dim, pos, inv_freq_, pairing_);
    const int stored = std::clamp(rows - int(t0), 0, n);  // rows past the cache's capacity are not kept
    if (stored > 0) cache.store(layer, pos, stored, k + off, ld, v + off, ld);
  };
  if (pool && ch.T >= 16)
    pool->parallel_for(size_t(ch.T), [&](int, size_t t0, size_t t1) { rotate_and_store(t0, t1); });
  else
    rotate_and_store(0, size_t(ch.T));

  kernels::AttentionArgs a;
  a.q = q;
  a.q_row_stride = ld;
  a.T = rows;
  a.q_start = ch.pos0;
  a.k = cache.keys(layer);
  a.v = cache.values(layer);
  a.kv_head_stride = cache.head_stride();
  a.kv_pos_stride = cache.pos_stride();
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.out = ch.att.data();
  a.out_row_stride = size_t(c.q_dim());
  kernels::causal_attention(a, pool);
}

// x += att · Wo^T ; xb = rmsnorm(x) ; h = silu(xb · Wg^T) * (xb · Wu^T) ; x += h · Wd^T
// The down projection applies silu(gate) * up itself (LinearOp::forward_swiglu): the int8 linear folds it
// into its quantizer, others write h over the gate half of each gate_up row (no separate buffer).
void CpuBackend::run_o_mlp(int layer, Chunk& ch, ThreadPool* pool) const {
  const ModelConfig& c = model_.config;
  const LayerWeights& w = model_.weights.layers[size_t(layer)];
  const LayerLinears& ops = graph_.layers[size_t(layer)];
  size_t dim = size_t(c.dim), ffn = size_t(c.ffn_dim);
  ops.o->forward(ch.att.data(), ch.T, size_t(c.q_dim()), ch.x.data(), dim, true, pool);
  kernels::rmsnorm(ch.x.data(), dim, ch.T, c.dim, w.ffn_norm, c.norm_eps, ch.xb.data(), dim, pool);
  ops.gate_up->forward(ch.xb.data(), ch.T, dim, ch.gate_up.data(), 2 * ffn, false, pool);
  ops.down->forward_swiglu(ch.gate_up.data(), ch.T, 2 * ffn, ch.x.data(), dim, true, pool);
}

// logits = rmsnorm(x) · Wout^T for the last real row, or for every real row.
void CpuBackend::run_head(Chunk& ch, ThreadPool* pool) const {
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

}  // namespace llmnpu
