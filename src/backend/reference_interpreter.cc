#include "backend/reference_interpreter.h"

#include <cmath>
#include <cstring>

#include "backend/float_graph.h"
#include "backend/float_linear.h"
#include "core/error.h"
#include "graph/model_program.h"

namespace llmnpu {

namespace {

// --- weights ------------------------------------------------------------------------------------------

// A fused linear is row blocks of separate matrices: Q|K|V, gate|up.
struct Block {
  const float* w;
  const float* b;
  int rows;
};

void matvec(const std::vector<Block>& blocks, const float* x, int in, float* y, int out) {
  int n = 0;
  for (const Block& blk : blocks)
    for (int r = 0; r < blk.rows; ++r, ++n) {
      check(n < out, "reference: linear has more rows than its output");
      double sum = blk.b ? blk.b[r] : 0.0;
      const float* w = blk.w + size_t(r) * size_t(in);
      for (int k = 0; k < in; ++k) sum += double(w[k]) * double(x[k]);
      y[n] = float(sum);
    }
  check(n == out, "reference: linear has ", n, " rows, the op writes ", out);
}

class GraphWeightsView final : public ReferenceWeights {
 public:
  explicit GraphWeightsView(const ModelGraph& g) : g_(g) {}
  const float* vector(const WeightRef& ref) const override { return g_.weight_vector(ref).data; }
  void linear(const WeightRef& ref, const float* x, int in, float* y, int out) const override {
    const LinearOp& op = g_.linear(ref);
    std::vector<const LinearOp*> parts{&op};
    if (const auto* fused = dynamic_cast<const ConcatLinear*>(&op)) {
      parts.clear();
      for (const auto& p : fused->parts()) parts.push_back(p.get());
    }
    std::vector<Block> blocks;
    for (const LinearOp* p : parts) {
      const auto* f = dynamic_cast<const FloatLinear*>(p);
      check(f != nullptr && f->weight() != nullptr, "reference: linear '", ref.describe(),
            "' has no fp32 weights");
      blocks.push_back({f->weight(), f->bias(), f->out_features()});
    }
    matvec(blocks, x, in, y, out);
  }

 private:
  const ModelGraph& g_;
};

// A float model's weights: its fp32 graph (the names the program uses, bound in graph/), kept alive here.
class ModelWeightsView final : public ReferenceWeights {
 public:
  explicit ModelWeightsView(const Model& m) : graph_(build_float_graph(m)), view_(graph_) {}
  const float* vector(const WeightRef& ref) const override { return view_.vector(ref); }
  void linear(const WeightRef& ref, const float* x, int in, float* y, int out) const override {
    view_.linear(ref, x, in, y, out);
  }

 private:
  ModelGraph graph_;
  GraphWeightsView view_;
};

// --- ops ----------------------------------------------------------------------------------------------

double activation(Activation act, double g) {
  switch (act) {
    case Activation::SiLU: return g / (1.0 + std::exp(-g));
    case Activation::Gelu: return 0.5 * g * (1.0 + std::erf(g / std::sqrt(2.0)));
    case Activation::GeluTanh:
      return 0.5 * g * (1.0 + std::tanh(0.7978845608028654 * (g + 0.044715 * g * g * g)));
  }
  return g;
}

// The angle of rotary pair i at position pos, with linear or llama3 frequency scaling.
double rope_angle(const RopeSpec& r, int pos, int i) {
  double freq = std::pow(r.base, -2.0 * i / r.rotary_dims);
  if (size_t(i) < r.freq_factors.size()) freq /= r.freq_factors[size_t(i)];
  if (r.scaling == RopeScale::Linear) freq /= r.factor;
  if (r.scaling == RopeScale::Llama3) {
    const double pi = 3.14159265358979323846;
    const double wavelen = 2 * pi / freq;
    const double low = r.original_context / r.low_freq_factor, high = r.original_context / r.high_freq_factor;
    if (wavelen > low) {
      freq /= r.factor;
    } else if (wavelen >= high) {
      const double smooth =
          (r.original_context / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      freq = (1 - smooth) * freq / r.factor + smooth * freq;
    }
  }
  return pos * freq;
}

void rope(const RopeSpec& r, float* x, int heads, int pos) {
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < r.rotary_dims / 2; ++i) {
      const double a = rope_angle(r, pos, i), c = std::cos(a), s = std::sin(a);
      const int i0 = r.style == RopeStyle::Interleaved ? 2 * i : i;
      const int i1 = r.style == RopeStyle::Interleaved ? 2 * i + 1 : i + r.rotary_dims / 2;
      float* v = x + size_t(h) * size_t(r.head_dim);
      const double x0 = v[i0], x1 = v[i1];
      v[i0] = float(x0 * c - x1 * s);
      v[i1] = float(x0 * s + x1 * c);
    }
}

// Appends this position's key and value, then each query head attends over the keys it may see.
void attention(const AttentionSpec& a, const float* q, const float* k, const float* v, float* out, int pos,
               KvCache& cache) {
  const int hd = a.head_dim;
  cache.store(a.cache_layer, pos, 1, k, size_t(a.n_kv_heads * hd), v, size_t(a.n_kv_heads * hd));
  const int first = a.window > 0 ? std::max(0, pos - a.window + 1) : 0;
  std::vector<double> score(size_t(pos + 1));
  for (int h = 0; h < a.n_heads; ++h) {
    const int g = h / (a.n_heads / a.n_kv_heads);
    const float* keys = cache.keys(a.cache_layer) + size_t(g) * cache.head_stride();
    const float* values = cache.values(a.cache_layer) + size_t(g) * cache.head_stride();
    const float* qh = q + size_t(h) * size_t(hd);
    double largest = -1e300;
    for (int p = first; p <= pos; ++p) {
      double s = 0;
      for (int d = 0; d < hd; ++d) s += double(qh[d]) * keys[size_t(p) * cache.pos_stride() + size_t(d)];
      s *= a.scale;
      if (a.softcap > 0) s = a.softcap * std::tanh(s / a.softcap);
      score[size_t(p)] = s;
      largest = std::max(largest, s);
    }
    double total = 0;
    for (int p = first; p <= pos; ++p) total += (score[size_t(p)] = std::exp(score[size_t(p)] - largest));
    for (int d = 0; d < hd; ++d) {
      double sum = 0;
      for (int p = first; p <= pos; ++p)
        sum += score[size_t(p)] * values[size_t(p) * cache.pos_stride() + size_t(d)];
      out[size_t(h) * size_t(hd) + size_t(d)] = float(sum / total);
    }
  }
}

}  // namespace

std::unique_ptr<ReferenceWeights> model_reference_weights(const Model& model) {
  return std::make_unique<ModelWeightsView>(model);
}

std::unique_ptr<ReferenceWeights> graph_reference_weights(const ModelGraph& graph) {
  return std::make_unique<GraphWeightsView>(graph);
}

void reference_run_row(const ModelProgram& p, const std::vector<Op>& ops, const ReferenceWeights& w,
                       Chunk& ch, int row, int logit_row, int pos, KvCache& cache) {
  // A view's floats in this row (the logits tensor has its own rows).
  auto at = [&](const View& v) {
    if (v.tensor == p.logits)
      return ch.logits.data() + size_t(logit_row) * size_t(p.tensor(v.tensor).width) + v.col;
    return ch.at(v) + size_t(row) * size_t(p.tensor(v.tensor).width);
  };
  for (const Op& op : ops) {
    const int n = op.out.cols;
    float* out = op.out.tensor >= 0 ? at(op.out) : nullptr;
    switch (op.kind) {
      case OpKind::Embed: {
        const float* table = w.vector(op.weight);
        const int32_t id = ch.tokens.at(size_t(row));
        for (int i = 0; i < n; ++i) out[i] = table[size_t(id) * size_t(n) + size_t(i)] * op.scale;
        break;
      }
      case OpKind::RmsNorm: {
        const float* x = at(op.in[0]);
        const float* g = w.vector(op.weight);
        double ss = 0;
        for (int i = 0; i < n; ++i) ss += double(x[i]) * x[i];
        const double inv = 1.0 / std::sqrt(ss / n + op.eps);
        for (int i = 0; i < n; ++i) out[i] = float(x[i] * inv * (double(g[i]) + op.offset));
        break;
      }
      case OpKind::LayerNorm: {
        const float* x = at(op.in[0]);
        const float* g = op.weight.empty() ? nullptr : w.vector(op.weight);
        const float* b = op.bias.empty() ? nullptr : w.vector(op.bias);
        double mean = 0, var = 0;
        for (int i = 0; i < n; ++i) mean += x[i];
        mean /= n;
        for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
        const double inv = 1.0 / std::sqrt(var / n + op.eps);
        for (int i = 0; i < n; ++i) out[i] = float((x[i] - mean) * inv * (g ? g[i] : 1.0) + (b ? b[i] : 0.0));
        break;
      }
      case OpKind::Linear: {
        std::vector<float> x(at(op.in[0]), at(op.in[0]) + op.in[0].cols);  // the output may alias the input
        w.linear(op.weight, x.data(), op.in[0].cols, out, n);
        break;
      }
      case OpKind::Rope:
        rope(op.rope, at(op.in[0]), op.rope.n_heads, pos);
        rope(op.rope, at(op.in[1]), op.rope.n_kv_heads, pos);
        break;
      case OpKind::Attention:
        attention(op.attention, at(op.in[0]), at(op.in[1]), at(op.in[2]), out, pos, cache);
        break;
      case OpKind::Activation: {
        const float* x = at(op.in[0]);
        for (int i = 0; i < n; ++i) out[i] = float(activation(op.act, x[i]));
        break;
      }
      case OpKind::GatedActivation: {
        const float* g = at(op.in[0]);
        const float* u = at(op.in[1]);
        for (int i = 0; i < n; ++i) out[i] = float(activation(op.act, g[i]) * u[i]);
        break;
      }
      case OpKind::Add: {
        const float* a = at(op.in[0]);
        const float* b = at(op.in[1]);
        for (int i = 0; i < n; ++i) out[i] = a[i] + b[i];
        break;
      }
      case OpKind::Shadow: break;  // float weights: no int8 error to correct
      case OpKind::Softcap: {
        const float* x = at(op.in[0]);
        for (int i = 0; i < n; ++i) out[i] = float(op.cap * std::tanh(double(x[i]) / op.cap));
        break;
      }
    }
  }
}

ReferenceInterpreter::ReferenceInterpreter(const Model& model, int context)
    : model_(model),
      program_(build_model_program(model.config)),
      weights_(model_reference_weights(model)),
      cache_(model.config.n_layers, model.config.n_kv_heads, model.config.head_dim, context) {
  row_.allocate(program_, 1);
}

std::vector<float> ReferenceInterpreter::forward(int32_t token) {
  check(position_ < cache_.capacity(), "context of ", cache_.capacity(), " tokens is full");
  check(token >= 0 && token < model_.config.vocab_size, "token id ", token, " is outside the vocabulary");
  row_.T = 1;
  row_.tokens = {token};
  row_.logits.assign(size_t(program_.tensor(program_.logits).width), 0.0f);
  reference_run_row(program_, {program_.embed}, *weights_, row_, 0, 0, position_, cache_);
  for (const std::vector<Op>& layer : program_.layers)
    reference_run_row(program_, layer, *weights_, row_, 0, 0, position_, cache_);
  reference_run_row(program_, program_.head, *weights_, row_, 0, 0, position_, cache_);
  ++position_;
  return row_.logits;
}

}  // namespace llmnpu
