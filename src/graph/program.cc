#include "graph/program.h"

#include <sstream>

#include "core/error.h"

namespace llmnpu {

std::string WeightRef::describe() const { return layer < 0 ? name : str("blk.", layer, ".", name); }

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Embed: return "embed";
    case OpKind::RmsNorm: return "rms_norm";
    case OpKind::LayerNorm: return "layer_norm";
    case OpKind::Linear: return "linear";
    case OpKind::Rope: return "rope";
    case OpKind::Attention: return "attention";
    case OpKind::Activation: return "act";
    case OpKind::GatedActivation: return "gated";
    case OpKind::Add: return "add";
    case OpKind::Softcap: return "softcap";
    case OpKind::Shadow: return "shadow";
  }
  return "?";
}

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::SiLU: return "silu";
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_tanh";
  }
  return "?";
}

static std::string view_text(const ModelProgram& p, const View& v) {
  const TensorDecl& t = p.tensor(v.tensor);
  if (v.col == 0 && v.cols == t.width) return t.name;
  return str(t.name, "[", v.col, ":", v.col + v.cols, "]");
}

std::string format_op(const ModelProgram& p, const Op& op) {
  std::ostringstream s;
  if (op.out.tensor >= 0) s << view_text(p, op.out) << (op.kind == OpKind::Shadow ? " += " : " = ");
  s << op_kind_name(op.kind);
  if (op.kind == OpKind::Activation || op.kind == OpKind::GatedActivation)
    s << "_" << activation_name(op.act);
  s << "(";
  const char* sep = "";
  for (const View& v : op.in) {
    s << sep << view_text(p, v);
    sep = ", ";
  }
  if (!op.weight.empty()) s << sep << op.weight.describe(), sep = ", ";
  if (!op.bias.empty()) s << sep << "bias " << op.bias.describe(), sep = ", ";
  switch (op.kind) {
    case OpKind::Embed:
      if (op.scale != 1) s << sep << "scale " << op.scale;
      break;
    case OpKind::RmsNorm:
    case OpKind::LayerNorm:
      s << sep << "eps " << op.eps;
      if (op.offset != 0) s << ", weight + " << op.offset;
      break;
    case OpKind::Rope:
      s << sep << (op.rope.style == RopeStyle::Interleaved ? "interleaved" : "half-split") << ", "
        << op.rope.rotary_dims << "/" << op.rope.head_dim << " dims, base " << op.rope.base;
      if (op.rope.scaling == RopeScale::Linear) s << ", linear x" << op.rope.factor;
      if (op.rope.scaling == RopeScale::Llama3) s << ", llama3 x" << op.rope.factor;
      if (!op.rope.freq_factors.empty()) s << ", " << op.rope.freq_factors.size() << " frequency divisors";
      break;
    case OpKind::Attention:
      s << sep << op.attention.n_heads << " heads / " << op.attention.n_kv_heads << " kv, head dim "
        << op.attention.head_dim << ", scale " << op.attention.scale << ", cache L"
        << op.attention.cache_layer;
      if (op.attention.window > 0) s << ", window " << op.attention.window;
      if (op.attention.softcap > 0) s << ", softcap " << op.attention.softcap;
      break;
    case OpKind::Softcap: s << sep << "cap " << op.cap; break;
    default: break;
  }
  s << ")";
  return s.str();
}

std::string format_program(const ModelProgram& p, bool every_layer) {
  std::ostringstream s;
  s << "tensors (per chunk row):";
  for (const TensorDecl& t : p.tensors)
    s << " " << t.name << "[" << t.width << "]" << (t.transient ? "*" : "");
  s << "   (* transient: lives inside one subgraph)\n";
  s << "embed:\n  " << format_op(p, p.embed) << "\n";
  // Layers whose ops differ from layer 0's beyond their weights and cache layer (a pruned shadow path,
  // another window) are printed in full; the others are summarized.
  auto same_shape = [&](const std::vector<Op>& a, const std::vector<Op>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].kind != b[i].kind || a[i].attention.window != b[i].attention.window) return false;
    return true;
  };
  int summarized = 0;
  for (size_t l = 0; l < p.layers.size(); ++l) {
    if (!every_layer && l > 0 && same_shape(p.layers[l], p.layers[0])) {
      ++summarized;
      continue;
    }
    s << "layer " << l << ":\n";
    for (const Op& op : p.layers[l]) s << "  " << format_op(p, op) << "\n";
  }
  if (summarized > 0)
    s << summarized << " more layers: the ops of layer 0 on their own weights and cache layer\n";
  s << "head (rows whose logits are wanted):\n";
  for (const Op& op : p.head) s << "  " << format_op(p, op) << "\n";
  return s.str();
}

namespace {

void check_view(const ModelProgram& p, const Op& op, const View& v, const char* what) {
  check(v.tensor >= 0 && size_t(v.tensor) < p.tensors.size(), "program: ", op_kind_name(op.kind), " ", what,
        " names no tensor");
  const TensorDecl& t = p.tensor(v.tensor);
  check(v.col >= 0 && v.cols > 0 && v.col + v.cols <= t.width, "program: ", op_kind_name(op.kind), " ", what,
        " columns [", v.col, ", ", v.col + v.cols, ") are outside tensor '", t.name, "' of width ", t.width);
}

void validate_op(const ModelProgram& p, const Op& op) {
  size_t inputs = 1;
  bool has_out = true;
  switch (op.kind) {
    case OpKind::Embed: inputs = 0; break;
    case OpKind::Rope: inputs = 2, has_out = false; break;
    case OpKind::Attention: inputs = 3; break;
    case OpKind::GatedActivation:
    case OpKind::Add: inputs = 2; break;
    default: break;
  }
  check(op.in.size() == inputs, "program: ", op_kind_name(op.kind), " takes ", inputs, " inputs, not ",
        op.in.size());
  for (const View& v : op.in) check_view(p, op, v, "input");
  if (has_out) check_view(p, op, op.out, "output");
  auto same_width = [&](const View& a, const View& b) {
    check(a.cols == b.cols, "program: ", op_kind_name(op.kind), " reads ", a.cols, " columns and writes ",
          b.cols);
  };
  switch (op.kind) {
    case OpKind::RmsNorm:
    case OpKind::LayerNorm:
    case OpKind::Activation:
    case OpKind::Softcap: same_width(op.in[0], op.out); break;
    case OpKind::GatedActivation:
    case OpKind::Add:
      same_width(op.in[0], op.out);
      same_width(op.in[1], op.out);
      break;
    case OpKind::Rope:
      check(op.in[0].cols == op.rope.n_heads * op.rope.head_dim &&
                op.in[1].cols == op.rope.n_kv_heads * op.rope.head_dim,
            "program: rope views do not match ", op.rope.n_heads, "/", op.rope.n_kv_heads, " heads of ",
            op.rope.head_dim);
      check(
          op.rope.rotary_dims > 0 && op.rope.rotary_dims <= op.rope.head_dim && op.rope.rotary_dims % 2 == 0,
          "program: rope rotates ", op.rope.rotary_dims, " of ", op.rope.head_dim, " dims");
      check(op.rope.freq_factors.empty() || int(op.rope.freq_factors.size()) == op.rope.rotary_dims / 2,
            "program: rope has ", op.rope.freq_factors.size(), " frequency divisors for ",
            op.rope.rotary_dims / 2, " pairs");
      break;
    case OpKind::Attention: {
      const AttentionSpec& a = op.attention;
      check(a.n_heads > 0 && a.n_kv_heads > 0 && a.n_heads % a.n_kv_heads == 0 && a.head_dim > 0,
            "program: attention heads ", a.n_heads, "/", a.n_kv_heads, " do not group");
      check(op.in[0].cols == a.n_heads * a.head_dim && op.in[1].cols == a.n_kv_heads * a.head_dim &&
                op.in[2].cols == a.n_kv_heads * a.head_dim && op.out.cols == a.n_heads * a.head_dim,
            "program: attention views do not match its heads");
      break;
    }
    case OpKind::Linear: check(!op.weight.empty(), "program: a linear without a weight"); break;
    case OpKind::Shadow: check(!op.weight.empty(), "program: a shadow op without its linear's weight"); break;
    default: break;
  }
}

}  // namespace

void add_shadow_ops(ModelProgram& p, const std::function<bool(const WeightRef&)>& has_shadow) {
  for (auto& layer : p.layers) {
    std::vector<Op> ops;
    for (const Op& op : layer) {
      ops.push_back(op);
      if (op.kind == OpKind::Linear && has_shadow(op.weight)) {
        Op shadow = op;
        shadow.kind = OpKind::Shadow;
        ops.push_back(shadow);
      }
    }
    layer = std::move(ops);
  }
}

void validate_program(const ModelProgram& p) {
  check(p.residual >= 0 && p.logits >= 0, "program: no residual or logits tensor");
  validate_op(p, p.embed);
  for (const auto& layer : p.layers)
    for (const Op& op : layer) validate_op(p, op);
  for (const Op& op : p.head) validate_op(p, op);
}

}  // namespace llmnpu
