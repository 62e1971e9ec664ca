#include "naive_forward.h"

#include <cmath>

namespace llmnpu::test {

namespace {
void rmsnorm(std::vector<float>& out, const std::vector<float>& x, const float* w, float eps) {
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  float inv = float(1.0 / std::sqrt(ss / double(x.size()) + eps));
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * inv * w[i];
}
// out[n] = sum_k W[n][k] x[k] (+ b[n])
void matvec(std::vector<float>& out, const std::vector<float>& x, const float* w, const float* b, int n,
            int k) {
  out.assign(size_t(n), 0.0f);
  for (int i = 0; i < n; ++i) {
    double s = b ? b[i] : 0.0;
    for (int j = 0; j < k; ++j) s += double(w[size_t(i) * size_t(k) + size_t(j)]) * x[size_t(j)];
    out[size_t(i)] = float(s);
  }
}
void rope(std::vector<float>& v, int heads, int hd, int pos, float base, bool interleaved) {
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < hd / 2; ++i) {
      double freq = std::pow(double(base), -2.0 * i / hd);
      double a = pos * freq, c = std::cos(a), s = std::sin(a);
      int i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + hd / 2;
      float& x0 = v[size_t(h * hd + i0)];
      float& x1 = v[size_t(h * hd + i1)];
      float a0 = x0, a1 = x1;
      x0 = float(a0 * c - a1 * s);
      x1 = float(a0 * s + a1 * c);
    }
}
}  // namespace

NaiveForward::NaiveForward(const Model& model, int context) : m_(model), context_(context) {
  const auto& c = model.config;
  k_cache_.assign(size_t(c.n_layers), std::vector<float>(size_t(context) * size_t(c.kv_dim())));
  v_cache_ = k_cache_;
}

std::vector<float> NaiveForward::step(int token) {
  const ModelConfig& c = m_.config;
  const int dim = c.dim, hd = c.head_dim, kvd = c.kv_dim();
  bool interleaved = c.rope_layout == RopeLayout::Interleaved;
  std::vector<float> x(m_.weights.token_embedding + size_t(token) * size_t(dim),
                       m_.weights.token_embedding + size_t(token + 1) * size_t(dim));
  std::vector<float> xb(static_cast<size_t>(dim)), q, k, v, att(static_cast<size_t>(c.q_dim())), o, g, u, d;
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& w = m_.weights.layers[size_t(l)];
    rmsnorm(xb, x, w.attn_norm, c.norm_eps);
    matvec(q, xb, w.wq, w.bq, c.q_dim(), dim);
    matvec(k, xb, w.wk, w.bk, kvd, dim);
    matvec(v, xb, w.wv, w.bv, kvd, dim);
    rope(q, c.n_heads, hd, pos_, c.rope_base, interleaved);
    rope(k, c.n_kv_heads, hd, pos_, c.rope_base, interleaved);
    for (int i = 0; i < kvd; ++i) {
      k_cache_[size_t(l)][size_t(pos_ * kvd + i)] = k[size_t(i)];
      v_cache_[size_t(l)][size_t(pos_ * kvd + i)] = v[size_t(i)];
    }
    for (int h = 0; h < c.n_heads; ++h) {
      int g_head = h / (c.n_heads / c.n_kv_heads);
      std::vector<double> score(size_t(pos_ + 1));
      double mx = -1e300;
      for (int t = 0; t <= pos_; ++t) {
        double s = 0;
        for (int i = 0; i < hd; ++i)
          s += double(q[size_t(h * hd + i)]) * k_cache_[size_t(l)][size_t(t * kvd + g_head * hd + i)];
        score[size_t(t)] = s / std::sqrt(double(hd));
        mx = std::max(mx, score[size_t(t)]);
      }
      double sum = 0;
      for (auto& s : score) sum += (s = std::exp(s - mx));
      for (int i = 0; i < hd; ++i) {
        double acc = 0;
        for (int t = 0; t <= pos_; ++t)
          acc += score[size_t(t)] / sum * v_cache_[size_t(l)][size_t(t * kvd + g_head * hd + i)];
        att[size_t(h * hd + i)] = float(acc);
      }
    }
    matvec(o, att, w.wo, nullptr, dim, c.q_dim());
    for (int i = 0; i < dim; ++i) x[size_t(i)] += o[size_t(i)];
    rmsnorm(xb, x, w.ffn_norm, c.norm_eps);
    matvec(g, xb, w.w_gate, nullptr, c.ffn_dim, dim);
    matvec(u, xb, w.w_up, nullptr, c.ffn_dim, dim);
    for (int i = 0; i < c.ffn_dim; ++i)
      g[size_t(i)] = g[size_t(i)] / (1.0f + std::exp(-g[size_t(i)])) * u[size_t(i)];
    matvec(d, g, w.w_down, nullptr, dim, c.ffn_dim);
    for (int i = 0; i < dim; ++i) x[size_t(i)] += d[size_t(i)];
  }
  rmsnorm(xb, x, m_.weights.output_norm, c.norm_eps);
  std::vector<float> logits;
  matvec(logits, xb, m_.weights.output, nullptr, c.vocab_size, dim);
  ++pos_;
  return logits;
}

}  // namespace llmnpu::test
