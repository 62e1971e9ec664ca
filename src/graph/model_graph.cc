#include "graph/model_graph.h"

#include "core/error.h"
#include "graph/model_program.h"

namespace llmnpu {

static int total_out(const std::vector<std::unique_ptr<LinearOp>>& parts) {
  int n = 0;
  for (const auto& p : parts) n += p->out_features();
  return n;
}

ConcatLinear::ConcatLinear(std::vector<std::unique_ptr<LinearOp>> parts)
    : LinearOp(parts.empty() ? 0 : parts[0]->in_features(), total_out(parts)), parts_(std::move(parts)) {
  for (const auto& p : parts_)
    check(p->in_features() == in_features(), "fused linears disagree on input size");
}

void ConcatLinear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                           ThreadPool* pool) const {
  size_t offset = 0;
  for (const auto& p : parts_) {
    p->forward(x, T, ldx, y + offset, ldy, accumulate, pool);
    offset += size_t(p->out_features());
  }
}

std::string ConcatLinear::describe() const { return parts_.empty() ? "empty" : parts_[0]->describe(); }

size_t ConcatLinear::weight_bytes() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->weight_bytes();
  return n;
}

ModelGraph build_graph_from_weights(const Model& model, const LinearFactory& make) {
  const ModelConfig& c = model.config;
  ModelGraph g;
  for (const LayerWeights& L : model.weights.layers) {
    LayerLinears ops;
    std::vector<std::unique_ptr<LinearOp>> qkv;
    qkv.push_back(make(L.wq, L.bq, c.dim, c.q_dim()));
    qkv.push_back(make(L.wk, L.bk, c.dim, c.kv_dim()));
    qkv.push_back(make(L.wv, L.bv, c.dim, c.kv_dim()));
    ops.qkv = std::make_unique<ConcatLinear>(std::move(qkv));
    ops.o = make(L.wo, L.bo, c.q_dim(), c.dim);
    if (c.ffn_gated) {
      std::vector<std::unique_ptr<LinearOp>> gate_up;
      gate_up.push_back(make(L.w_gate, nullptr, c.dim, c.ffn_dim));
      gate_up.push_back(make(L.w_up, nullptr, c.dim, c.ffn_dim));
      ops.gate_up = std::make_unique<ConcatLinear>(std::move(gate_up));
    } else {
      ops.gate_up = make(L.w_up, L.b_up, c.dim, c.ffn_dim);  // the MLP's one input projection ("up")
    }
    ops.down = make(L.w_down, L.b_down, c.ffn_dim, c.dim);
    g.layers.push_back(std::move(ops));
  }
  return g;
}

const LinearOp& ModelGraph::linear(const WeightRef& ref) const {
  const LinearOp* op = nullptr;
  if (ref.layer < 0) {
    if (ref.name == "output") op = head.get();
  } else if (size_t(ref.layer) < layers.size()) {
    const LayerLinears& L = layers[size_t(ref.layer)];
    if (ref.name == "qkv") op = L.qkv.get();
    if (ref.name == "o") op = L.o.get();
    if (ref.name == "gate_up" || ref.name == "up") op = L.gate_up.get();
    if (ref.name == "down") op = L.down.get();
  }
  check(op != nullptr, "model graph has no linear '", ref.describe(), "'");
  return *op;
}

VectorWeight ModelGraph::weight_vector(const WeightRef& ref) const {
  auto it = vectors.find(ref.describe());
  check(it != vectors.end() && it->second.data, "model graph has no weight '", ref.describe(), "'");
  return it->second;
}

void bind_program(ModelGraph& g, const Model& model, bool quantized) {
  const ModelConfig& c = model.config;
  g.program = build_model_program(c);
  if (quantized) add_shadow_ops(g.program, [&](const WeightRef& ref) { return g.linear(ref).has_shadow(); });
  g.chunk_subgraphs = build_chunk_subgraphs(g.program, quantized);
  g.quantized = quantized;
  g.vectors.clear();
  const ModelWeights& w = model.weights;
  g.vectors["output_norm"] = {w.output_norm, c.dim};
  if (w.output_norm_b) g.vectors["output_norm.bias"] = {w.output_norm_b, c.dim};
  if (w.token_embedding) g.vectors["token_embd"] = {w.token_embedding, c.vocab_size * c.dim};
  for (size_t l = 0; l < w.layers.size(); ++l) {
    g.vectors[WeightRef{int(l), "attn_norm"}.describe()] = {w.layers[l].attn_norm, c.dim};
    if (w.layers[l].ffn_norm)
      g.vectors[WeightRef{int(l), "ffn_norm"}.describe()] = {w.layers[l].ffn_norm, c.dim};
    if (w.layers[l].attn_norm_b)
      g.vectors[WeightRef{int(l), "attn_norm.bias"}.describe()] = {w.layers[l].attn_norm_b, c.dim};
    if (w.layers[l].q_norm)
      g.vectors[WeightRef{int(l), "attn_q_norm"}.describe()] = {w.layers[l].q_norm, c.head_dim};
    if (w.layers[l].k_norm)
      g.vectors[WeightRef{int(l), "attn_k_norm"}.describe()] = {w.layers[l].k_norm, c.head_dim};
    if (w.layers[l].post_attn_norm)
      g.vectors[WeightRef{int(l), "post_attention_norm"}.describe()] = {w.layers[l].post_attn_norm, c.dim};
    if (w.layers[l].post_ffn_norm)
      g.vectors[WeightRef{int(l), "post_ffw_norm"}.describe()] = {w.layers[l].post_ffn_norm, c.dim};
  }
  check_program_weights(g);
}

void check_program_weights(const ModelGraph& g) {
  const ModelProgram& p = g.program;
  auto check_op = [&](const Op& op) {
    const std::string what = format_op(p, op);
    try {
      switch (op.kind) {
        case OpKind::Linear: {
          const LinearOp& L = g.linear(op.weight);
          check(L.in_features() == op.in[0].cols && L.out_features() == op.out.cols, "weight '",
                op.weight.describe(), "' is ", L.out_features(), "x", L.in_features(), ", the op needs ",
                op.out.cols, "x", op.in[0].cols);
          break;
        }
        case OpKind::RmsNorm:
        case OpKind::LayerNorm: {
          for (const WeightRef* ref : {&op.weight, &op.bias}) {
            if (ref->empty()) continue;
            const VectorWeight v = g.weight_vector(*ref);
            check(v.size == op.out.cols, "weight '", ref->describe(), "' has ", v.size,
                  " values, the op needs ", op.out.cols);
          }
          break;
        }
        case OpKind::Embed: {
          if (g.embedding.row) {
            check(g.embedding.vocab > 0, "embedding rows without a vocabulary size");
            break;
          }
          const VectorWeight v = g.weight_vector(op.weight);
          check(v.size > 0 && v.size % op.out.cols == 0, "embedding '", op.weight.describe(),
                "' is not whole rows of ", op.out.cols);
          break;
        }
        default: break;
      }
    } catch (const Error& e) {
      fail("op '", what, "': ", e.what());
    }
  };
  check_op(p.embed);
  for (const auto& layer : p.layers)
    for (const Op& op : layer) check_op(op);
  for (const Op& op : p.head) check_op(op);
}

}  // namespace llmnpu
