#include "graph/model_program.h"

#include <cmath>

namespace llmnpu {

namespace {

struct Builder {
  ModelProgram p;
  int add_tensor(std::string name, int width, bool transient) {
    p.tensors.push_back({std::move(name), width, transient});
    return int(p.tensors.size()) - 1;
  }
  View whole(int id) const { return p.whole(id); }
};

Op op(OpKind kind, std::vector<View> in, View out, WeightRef weight = {}) {
  Op o;
  o.kind = kind;
  o.in = std::move(in);
  o.out = out;
  o.weight = std::move(weight);
  return o;
}

Activation activation_of(FfnActivation a) {
  switch (a) {
    case FfnActivation::SiLU: return Activation::SiLU;
    case FfnActivation::Gelu: return Activation::Gelu;
    case FfnActivation::GeluTanh: return Activation::GeluTanh;
  }
  return Activation::SiLU;
}

RopeSpec rope_of(const ModelConfig& c) {
  RopeSpec r;
  r.n_heads = c.n_heads;
  r.n_kv_heads = c.n_kv_heads;
  r.head_dim = c.head_dim;
  r.rotary_dims = c.rotary_dims > 0 ? c.rotary_dims : c.head_dim;
  r.style = c.rope_layout == RopeLayout::Interleaved ? RopeStyle::Interleaved : RopeStyle::HalfSplit;
  r.base = c.rope_base;
  r.scaling = c.rope_scaling == RopeScaling::Linear   ? RopeScale::Linear
              : c.rope_scaling == RopeScaling::Llama3 ? RopeScale::Llama3
                                                      : RopeScale::None;
  r.factor = c.rope_scaling_factor;
  r.low_freq_factor = c.rope_low_freq_factor;
  r.high_freq_factor = c.rope_high_freq_factor;
  r.original_context = c.rope_original_context;
  r.freq_factors = c.rope_freq_factors;
  return r;
}

// RMSNorm (weight + offset), or LayerNorm with the weight's bias ("<name>.bias").
Op norm(const ModelConfig& c, View in, View out, WeightRef weight) {
  const bool layer_norm = c.norm_kind == NormKind::Layer;
  WeightRef bias{weight.layer, weight.name + ".bias"};
  Op o = op(layer_norm ? OpKind::LayerNorm : OpKind::RmsNorm, {in}, out, std::move(weight));
  if (layer_norm) o.bias = bias;
  o.eps = c.norm_eps;
  o.offset = layer_norm ? 0.0f : c.norm_weight_offset;
  return o;
}

}  // namespace

ModelProgram build_model_program(const ModelConfig& c) {
  c.validate();
  Builder b;
  const int q = c.q_dim(), kv = c.kv_dim();
  const int x = b.add_tensor("x", c.dim, false);
  const int xb = b.add_tensor("xb", c.dim, true);
  const int qkv = b.add_tensor("qkv", q + 2 * kv, false);
  const int att = b.add_tensor("att", q, false);
  const int proj = b.add_tensor("proj", c.dim, true);
  // The MLP's output crosses subgraphs in a parallel block (computed before attention, added after).
  const int gate_up = b.add_tensor("gate_up", (c.ffn_gated ? 2 : 1) * c.ffn_dim, true);
  const int mlp = b.add_tensor("mlp", c.dim, !c.parallel_block);
  const int logits = b.add_tensor("logits", c.vocab_size, false);
  b.p.residual = x;
  b.p.logits = logits;

  b.p.embed = op(OpKind::Embed, {}, b.whole(x), {-1, "token_embd"});
  b.p.embed.scale = c.embedding_scale;

  const View q_view{qkv, 0, q}, k_view{qkv, q, kv}, v_view{qkv, q + kv, kv};
  const View gate{gate_up, 0, c.ffn_dim}, up{gate_up, c.ffn_gated ? c.ffn_dim : 0, c.ffn_dim};
  for (int l = 0; l < c.n_layers; ++l) {
    std::vector<Op> ops;
    auto mlp_ops = [&](View input) {
      if (c.ffn_gated) {
        ops.push_back(op(OpKind::Linear, {input}, b.whole(gate_up), {l, "gate_up"}));
        Op act = op(OpKind::GatedActivation, {gate, up}, gate);  // written over the gate half
        act.act = activation_of(c.ffn_activation);
        ops.push_back(act);
      } else {
        ops.push_back(op(OpKind::Linear, {input}, b.whole(gate_up), {l, "up"}));
        Op act = op(OpKind::Activation, {gate}, gate);
        act.act = activation_of(c.ffn_activation);
        ops.push_back(act);
      }
      ops.push_back(op(OpKind::Linear, {gate}, b.whole(mlp), {l, "down"}));
    };
    ops.push_back(norm(c, b.whole(x), b.whole(xb), {l, "attn_norm"}));
    ops.push_back(op(OpKind::Linear, {b.whole(xb)}, b.whole(qkv), {l, "qkv"}));
    if (c.qk_norm) {
      // Each query and key head normalized on its own, one weight shared by the heads (Qwen3).
      for (int h = 0; h < c.n_heads; ++h) {
        const View head{qkv, h * c.head_dim, c.head_dim};
        ops.push_back(norm(c, head, head, {l, "attn_q_norm"}));
      }
      for (int h = 0; h < c.n_kv_heads; ++h) {
        const View head{qkv, q + h * c.head_dim, c.head_dim};
        ops.push_back(norm(c, head, head, {l, "attn_k_norm"}));
      }
    }
    if (c.parallel_block) mlp_ops(b.whole(xb));
    Op rope = op(OpKind::Rope, {q_view, k_view}, {});
    rope.rope = rope_of(c);
    ops.push_back(rope);
    Op attention = op(OpKind::Attention, {q_view, k_view, v_view}, b.whole(att));
    AttentionSpec& a = attention.attention;
    a.n_heads = c.n_heads;
    a.n_kv_heads = c.n_kv_heads;
    a.head_dim = c.head_dim;
    a.cache_layer = l;
    a.scale = c.attention_scale > 0 ? c.attention_scale : float(1.0 / std::sqrt(double(c.head_dim)));
    a.window = c.window_of(l);
    a.softcap = c.attn_logit_softcap;
    ops.push_back(attention);
    ops.push_back(op(OpKind::Linear, {b.whole(att)}, b.whole(proj), {l, "o"}));
    if (c.post_norms) ops.push_back(norm(c, b.whole(proj), b.whole(proj), {l, "post_attention_norm"}));
    ops.push_back(op(OpKind::Add, {b.whole(x), b.whole(proj)}, b.whole(x)));
    if (!c.parallel_block) {
      ops.push_back(norm(c, b.whole(x), b.whole(xb), {l, "ffn_norm"}));
      mlp_ops(b.whole(xb));
    }
    if (c.post_norms) ops.push_back(norm(c, b.whole(mlp), b.whole(mlp), {l, "post_ffw_norm"}));
    ops.push_back(op(OpKind::Add, {b.whole(x), b.whole(mlp)}, b.whole(x)));
    b.p.layers.push_back(std::move(ops));
  }

  b.p.head.push_back(norm(c, b.whole(x), b.whole(xb), {-1, "output_norm"}));
  b.p.head.push_back(op(OpKind::Linear, {b.whole(xb)}, b.whole(logits), {-1, "output"}));
  if (c.final_logit_softcap > 0) {
    Op cap = op(OpKind::Softcap, {b.whole(logits)}, b.whole(logits));
    cap.cap = c.final_logit_softcap;
    b.p.head.push_back(cap);
  }
  validate_program(b.p);
  return b.p;
}

}  // namespace llmnpu
