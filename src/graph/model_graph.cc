#include "graph/model_graph.h"

#include "core/error.h"
#include "graph/model_program.h"
#include "model/tensor_names.h"

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
  for (int l = 0; l < int(model.weights.layers.size()); ++l) {
    const LayerWeights& L = model.weights.layers[size_t(l)];
    auto matrix = [&](TensorRole role) {
      const MatrixRef m = model.matrix(l, role);
      check(bool(m), "layer ", l, " has no ", tensor_name(NameScheme::Gguf, role, l), " weights");
      return m;
    };
    LayerLinears ops;
    std::vector<std::unique_ptr<LinearOp>> qkv;
    qkv.push_back(make(matrix(TensorRole::Wq), L.bq));
    qkv.push_back(make(matrix(TensorRole::Wk), L.bk));
    qkv.push_back(make(matrix(TensorRole::Wv), L.bv));
    ops.qkv = std::make_unique<ConcatLinear>(std::move(qkv));
    ops.o = make(matrix(TensorRole::Wo), L.bo);
    if (c.ffn_gated) {
      std::vector<std::unique_ptr<LinearOp>> gate_up;
      gate_up.push_back(make(matrix(TensorRole::Gate), nullptr));
      gate_up.push_back(make(matrix(TensorRole::Up), nullptr));
      ops.gate_up = std::make_unique<ConcatLinear>(std::move(gate_up));
    } else {
      ops.gate_up = make(matrix(TensorRole::Up), L.b_up);  // the MLP's one input projection ("up")
    }
    ops.down = make(matrix(TensorRole::Down), L.b_down);
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
  if (w.token_embedding) {
    g.vectors["token_embd"] = {w.token_embedding, c.vocab_size * c.dim};
  } else if (!g.embedding.row) {
    // A streamed table: rows decoded as tokens ask for them.
    const MatrixRef table = model.matrix(-1, TensorRole::TokenEmbedding);
    if (table) g.embedding = {[table](int32_t id, float* out) { table.read_rows(id, 1, out); }, table.rows};
  }
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
