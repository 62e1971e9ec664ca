#include "backend/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/attention.h"
#include "kernels/int8_gemm.h"
#include "kernels/norm.h"
#include "kernels/rope.h"

namespace llmnpu {

namespace {

// The rows a step works on: [row0, row0 + rows) of every tensor, except the logits tensor, whose row 0
// is the first logit row (the head computes only the rows whose logits are wanted).
struct Rows {
  int row0 = 0, rows = 0;
  int logit_base = 0;  // the row that is row 0 of the logits tensor (the head's first logit row)
};

using Step = std::function<void(Chunk&, const Rows&, ExecContext&)>;

kernels::RopeScalingParams rope_scaling(const RopeSpec& r) {
  kernels::RopeScalingParams p;
  p.factor = r.factor;
  p.low_freq_factor = r.low_freq_factor;
  p.high_freq_factor = r.high_freq_factor;
  p.original_context = r.original_context;
  p.kind = r.scaling == RopeScale::Linear   ? kernels::RopeScalingKind::Linear
           : r.scaling == RopeScale::Llama3 ? kernels::RopeScalingKind::Llama3
                                            : kernels::RopeScalingKind::None;
  return p;
}

// Binds views to a chunk's buffers.
struct Tensors {
  const ModelProgram* program;
  size_t ld(const View& v) const { return size_t(program->tensor(v.tensor).width); }
  float* at(Chunk& ch, const View& v, const Rows& r) const {
    if (v.tensor == program->logits) return ch.logits.data() + size_t(r.row0 - r.logit_base) * ld(v) + v.col;
    return ch.at(v) + size_t(r.row0) * ld(v);
  }
};

// True when no op after `from` reads (any part of) tensor t.
bool unread_after(const std::vector<Op>& ops, size_t from, int t) {
  for (size_t i = from; i < ops.size(); ++i)
    for (const View& v : ops[i].in)
      if (v.tensor == t) return false;
  return true;
}

class Compiler {
 public:
  Compiler(const Subgraph& sg, const ModelGraph& g) : sg_(sg), g_(g), t_{&g.program} {}

  std::vector<Step> compile() {
    const std::vector<Op>& ops = sg_.ops;
    for (size_t i = 0; i < ops.size(); ++i) i = compile_at(ops, i);
    return std::move(steps_);
  }

 private:
  bool transient(const View& v) const { return g_.program.tensor(v.tensor).transient; }

  // A residual add `out = out + y` right after the op writing y (y transient, read by nothing else).
  bool fused_add_follows(const std::vector<Op>& ops, size_t i, const View& y) const {
    if (i + 1 >= ops.size() || !transient(y)) return false;
    const Op& next = ops[i + 1];
    return next.kind == OpKind::Add && next.in[1] == y && next.in[0] == next.out &&
           unread_after(ops, i + 2, y.tensor);
  }

  // The shadow op of the linear ops[i], if it follows it: the linear's float shadow work, placed on the
  // host role through the execution's shadow sink (inline when there is none).
  static bool shadow_follows(const std::vector<Op>& ops, size_t i) {
    return i + 1 < ops.size() && ops[i + 1].kind == OpKind::Shadow && ops[i + 1].weight == ops[i].weight &&
           ops[i + 1].out == ops[i].out;
  }

  // Compiles ops[i] (and the ops fused with it); returns the index of the last op consumed.
  size_t compile_at(const std::vector<Op>& ops, size_t i) {
    const Op& op = ops[i];
    const Tensors t = t_;
    switch (op.kind) {
      case OpKind::GatedActivation: {
        // act(gate) * up over gate, feeding a linear: SiLU folds into the linear's quantizer.
        const View gate = op.in[0], up = op.in[1];
        if (op.act == Activation::SiLU && op.out == gate && gate.tensor == up.tensor &&
            up.col == gate.col + gate.cols && i + 1 < ops.size() && ops[i + 1].kind == OpKind::Linear &&
            ops[i + 1].in[0] == gate &&
            unread_after(ops, i + 2 + (shadow_follows(ops, i + 1) ? 1 : 0), gate.tensor)) {
          const Op& lin = ops[i + 1];
          const LinearOp* L = &g_.linear(lin.weight);
          const size_t last = i + 1 + (shadow_follows(ops, i + 1) ? 1 : 0);
          const bool placed = last > i + 1;
          const bool add = fused_add_follows(ops, last, lin.out);
          const View out = add ? ops[last + 1].out : lin.out;
          const std::string label = lin.weight.describe();
          steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext& cx) {
            if (placed && cx.shadow)
              L->forward_swiglu_placed(t.at(ch, gate, r), r.rows, t.ld(gate), t.at(ch, out, r), t.ld(out),
                                       add, cx.pool, {cx.shadow, label});
            else
              L->forward_swiglu(t.at(ch, gate, r), r.rows, t.ld(gate), t.at(ch, out, r), t.ld(out), add,
                                cx.pool);
          });
          return last + (add ? 1 : 0);
        }
        const Activation act = op.act;
        const View out = op.out;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext&) {
          for (int row = 0; row < r.rows; ++row) {
            const Rows one{r.row0 + row, 1, r.logit_base};
            const float* a = t.at(ch, gate, one);
            const float* b = t.at(ch, up, one);
            float* o = t.at(ch, out, one);
            const size_t n = size_t(out.cols);
            if (act == Activation::SiLU) kernels::silu_mul(a, b, o, n);
            if (act == Activation::Gelu) kernels::gelu_mul(a, b, o, n);
            if (act == Activation::GeluTanh) kernels::gelu_tanh_mul(a, b, o, n);
          }
        });
        return i;
      }
      case OpKind::Linear: {
        const LinearOp* L = &g_.linear(op.weight);
        const View in = op.in[0];
        const size_t last = i + (shadow_follows(ops, i) ? 1 : 0);
        const bool placed = last > i;
        const bool add = fused_add_follows(ops, last, op.out);
        const View out = add ? ops[last + 1].out : op.out;
        const std::string label = op.weight.describe();
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext& cx) {
          if (placed && cx.shadow)
            L->forward_placed(t.at(ch, in, r), r.rows, t.ld(in), t.at(ch, out, r), t.ld(out), add, cx.pool,
                              {cx.shadow, label});
          else
            L->forward(t.at(ch, in, r), r.rows, t.ld(in), t.at(ch, out, r), t.ld(out), add, cx.pool);
        });
        return last + (add ? 1 : 0);
      }
      case OpKind::RmsNorm: {
        const VectorWeight w = g_.weight_vector(op.weight);
        const float* weight = w.data;
        if (op.offset != 0) {
          auto shifted = std::make_shared<std::vector<float>>(w.data, w.data + w.size);
          for (float& v : *shifted) v += op.offset;
          owned_.push_back(shifted);
          weight = shifted->data();
        }
        const View in = op.in[0], out = op.out;
        const float eps = op.eps;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext& cx) {
          kernels::rmsnorm(t.at(ch, in, r), t.ld(in), r.rows, in.cols, weight, eps, t.at(ch, out, r),
                           t.ld(out), cx.pool);
        });
        return i;
      }
      case OpKind::LayerNorm: {
        const float* weight = op.weight.empty() ? nullptr : g_.weight_vector(op.weight).data;
        const float* bias = op.bias.empty() ? nullptr : g_.weight_vector(op.bias).data;
        const View in = op.in[0], out = op.out;
        const float eps = op.eps;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext&) {
          kernels::layernorm(t.at(ch, in, r), t.ld(in), r.rows, in.cols, weight, bias, eps, t.at(ch, out, r),
                             t.ld(out));
        });
        return i;
      }
      case OpKind::Activation: {
        const View in = op.in[0], out = op.out;
        const Activation act = op.act;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext&) {
          for (int row = 0; row < r.rows; ++row) {
            const Rows one{r.row0 + row, 1, r.logit_base};
            const float* a = t.at(ch, in, one);
            float* o = t.at(ch, out, one);
            if (act == Activation::SiLU) {
              for (int c = 0; c < in.cols; ++c) o[c] = a[c] / (1.0f + std::exp(-a[c]));
            } else if (act == Activation::Gelu) {
              kernels::gelu_mul(a, nullptr, o, size_t(in.cols));
            } else {
              kernels::gelu_tanh_mul(a, nullptr, o, size_t(in.cols));
            }
          }
        });
        return i;
      }
      case OpKind::Add: {
        const View a = op.in[0], b = op.in[1], out = op.out;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext&) {
          for (int row = 0; row < r.rows; ++row) {
            const Rows one{r.row0 + row, 1, r.logit_base};
            kernels::add(t.at(ch, a, one), t.at(ch, b, one), t.at(ch, out, one), size_t(out.cols));
          }
        });
        return i;
      }
      case OpKind::Softcap: {
        const View in = op.in[0], out = op.out;
        const float cap = op.cap;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext&) {
          for (int row = 0; row < r.rows; ++row) {
            const Rows one{r.row0 + row, 1, r.logit_base};
            kernels::softcap(t.at(ch, in, one), cap, t.at(ch, out, one), size_t(out.cols));
          }
        });
        return i;
      }
      case OpKind::Rope: {
        // RoPE and, when attention follows on the same keys, the cache append in the same pass, rows
        // split over the threads (the same split for every layer, so each thread's cos/sin table serves
        // all of a chunk's layers).
        const bool fused = i + 1 < ops.size() && ops[i + 1].kind == OpKind::Attention &&
                           ops[i + 1].in[1] == op.in[1] && ops[i + 1].in[0] == op.in[0];
        auto inv_freq = std::make_shared<std::vector<double>>(
            kernels::rope_inv_freq(op.rope.rotary_dims, op.rope.base, rope_scaling(op.rope)));
        for (size_t i = 0; i < op.rope.freq_factors.size() && i < inv_freq->size(); ++i)
          (*inv_freq)[i] /= double(op.rope.freq_factors[i]);
        const auto pairing = op.rope.style == RopeStyle::Interleaved ? kernels::RopePairing::Interleaved
                                                                     : kernels::RopePairing::HalfSplit;
        const View q = op.in[0], k = op.in[1];
        const RopeSpec spec = op.rope;
        const View v = fused ? ops[i + 1].in[2] : View{};
        const int layer = fused ? ops[i + 1].attention.cache_layer : -1;
        steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext& cx) {
          const int cached = std::min(r.rows, cx.cache.capacity() - ch.pos0);
          auto rotate = [&](size_t t0, size_t t1) {
            const Rows part{r.row0 + int(t0), int(t1 - t0), r.logit_base};
            const int pos = ch.pos0 + part.row0;
            kernels::rope_apply(t.at(ch, q, part), t.ld(q), part.rows, spec.n_heads, spec.head_dim, pos,
                                *inv_freq, pairing);
            kernels::rope_apply(t.at(ch, k, part), t.ld(k), part.rows, spec.n_kv_heads, spec.head_dim, pos,
                                *inv_freq, pairing);
            const int stored = std::clamp(cached - int(t0), 0, part.rows);  // rows past capacity are not kept
            if (layer >= 0 && stored > 0)
              cx.cache.store(layer, pos, stored, t.at(ch, k, part), t.ld(k), t.at(ch, v, part), t.ld(v));
          };
          if (cx.pool && r.rows >= 16)
            cx.pool->parallel_for(size_t(r.rows), [&](int, size_t t0, size_t t1) { rotate(t0, t1); });
          else
            rotate(0, size_t(r.rows));
        });
        if (fused) compile_attention(ops[i + 1], /*store=*/false);
        return i + (fused ? 1 : 0);
      }
      case OpKind::Attention: compile_attention(op, /*store=*/true); return i;
      case OpKind::Embed: fail("the CPU backend runs embeddings outside subgraphs");
      case OpKind::Shadow: fail("op '", format_op(g_.program, op), "' does not follow its linear");
    }
    return i;
  }

  void compile_attention(const Op& op, bool store) {
    const Tensors t = t_;
    const View q = op.in[0], k = op.in[1], v = op.in[2], out = op.out;
    const AttentionSpec a = op.attention;
    steps_.push_back([=](Chunk& ch, const Rows& r, ExecContext& cx) {
      const int rows = std::min(r.rows, cx.cache.capacity() - ch.pos0);
      if (store && rows > 0)
        cx.cache.store(a.cache_layer, ch.pos0, rows, t.at(ch, k, r), t.ld(k), t.at(ch, v, r), t.ld(v));
      kernels::AttentionArgs args;
      args.q = t.at(ch, q, r);
      args.q_row_stride = t.ld(q);
      args.T = rows;
      args.q_start = ch.pos0 + r.row0;
      args.k = cx.cache.keys(a.cache_layer);
      args.v = cx.cache.values(a.cache_layer);
      args.kv_head_stride = cx.cache.head_stride();
      args.kv_pos_stride = cx.cache.pos_stride();
      args.n_heads = a.n_heads;
      args.n_kv_heads = a.n_kv_heads;
      args.head_dim = a.head_dim;
      args.scale = a.scale;
      args.window = a.window;
      args.softcap = a.softcap;
      args.out = t.at(ch, out, r);
      args.out_row_stride = t.ld(out);
      kernels::causal_attention(args, cx.pool);
    });
  }

  const Subgraph& sg_;
  const ModelGraph& g_;
  Tensors t_;
  std::vector<Step> steps_;
  std::vector<std::shared_ptr<std::vector<float>>> owned_;

 public:
  std::vector<std::shared_ptr<std::vector<float>>> take_owned() { return std::move(owned_); }
};

class CpuSubgraph final : public CompiledSubgraph {
 public:
  CpuSubgraph(const Subgraph& sg, int vocab, std::vector<Step> steps,
              std::vector<std::shared_ptr<std::vector<float>>> owned)
      : head_(sg.head), vocab_(vocab), steps_(std::move(steps)), owned_(std::move(owned)) {}

  // The chunk's buffers have the static (padded) shape; the CPU backends compute only its real rows T.
  // Padding rows are masked out of every real result anyway, and computing them here would only cost
  // time (their garbage activations are also full of outliers). A static-shape NPU computes them.
  void execute(Chunk& chunk, ExecContext& context) override {
    Rows rows{0, chunk.T};
    if (head_) {
      rows = {chunk.first_logit_row(), chunk.logit_rows(), chunk.first_logit_row()};
      if (rows.rows <= 0) return;
      chunk.logits.assign(size_t(rows.rows) * size_t(vocab_), 0.0f);
    }
    for (const Step& step : steps_) step(chunk, rows, context);
  }

 private:
  bool head_;
  int vocab_;
  std::vector<Step> steps_;
  std::vector<std::shared_ptr<std::vector<float>>> owned_;  // weights the compiler derived (norm offsets)
};

}  // namespace

std::string CpuBackend::name() const {
  if (role_ == Role::Accelerator)
    return str("accelerator role: CPU cores, integer kernels (", int8_kernel_name(best_int8_kernel()), ")");
  return "host role: CPU cores, float kernels";
}

std::string CpuBackend::unsupported(const Subgraph& sg, const ModelGraph& g) const {
  if (role_ == Role::Accelerator && (sg.role != Role::Accelerator || !sg.is_static))
    return str(name(), " runs only static accelerator subgraphs, not ", sg.name());
  for (const Op& op : sg.ops) {
    if (op.kind == OpKind::Embed)
      return str("op '", format_op(g.program, op), "': embeddings run outside subgraphs");
  }
  return {};
}

std::unique_ptr<CompiledSubgraph> CpuBackend::compile(const Subgraph& sg, const ModelGraph& g,
                                                      int chunk_len) {
  const std::string why = unsupported(sg, g);
  check(why.empty(), name(), " cannot compile subgraph ", sg.name(), ": ", why);
  check(chunk_len > 0, "chunk length must be positive");
  Compiler compiler(sg, g);
  std::vector<Step> steps = compiler.compile();
  return std::make_unique<CpuSubgraph>(sg, g.program.tensor(g.program.logits).width, std::move(steps),
                                       compiler.take_owned());
}

}  // namespace llmnpu
