#include "backend/q8_block_linear.h"

#include <algorithm>
#include <cmath>

#include "backend/float_linear.h"
#include "core/error.h"
#include "kernels/float_gemm.h"

namespace llmnpu {

void q8_block_roundtrip(float* v, size_t n) {
  for (size_t b = 0; b < n; b += kQ8BlockSize) {
    const size_t e = std::min(n, b + kQ8BlockSize);
    float m = 0;
    for (size_t i = b; i < e; ++i) m = std::max(m, std::fabs(v[i]));
    if (m == 0) continue;
    const float scale = m / 127.0f, inv = 1.0f / scale;
    for (size_t i = b; i < e; ++i) v[i] = std::clamp(std::nearbyint(v[i] * inv), -127.0f, 127.0f) * scale;
  }
}

Q8BlockLinear::Q8BlockLinear(const float* weight, const float* bias, int in, int out)
    : LinearOp(in, out), weight_(weight, weight + size_t(in) * size_t(out)), bias_(bias) {
  check(weight != nullptr, "q8 block linear: missing weights");
  for (size_t n = 0; n < size_t(out); ++n) q8_block_roundtrip(weight_.data() + n * size_t(in), size_t(in));
}

size_t Q8BlockLinear::weight_bytes() const {
  const size_t blocks = (size_t(in_features()) + kQ8BlockSize - 1) / kQ8BlockSize;
  return blocks * 34 * size_t(out_features());
}

void Q8BlockLinear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                            ThreadPool* pool) const {
  const size_t K = size_t(in_features());
  std::vector<float> xq(size_t(std::max(T, 0)) * K);
  for (int t = 0; t < T; ++t) {
    std::copy(x + size_t(t) * ldx, x + size_t(t) * ldx + K, xq.begin() + long(size_t(t) * K));
    q8_block_roundtrip(xq.data() + size_t(t) * K, K);
  }
  kernels::float_gemm(xq.data(), T, K, weight_.data(), out_features(), in_features(), y, ldy, bias_,
                      accumulate, pool);
}

ModelGraph build_q8_block_graph(const Model& model) {
  const ModelConfig& c = model.config;
  ModelGraph g = build_graph_from_weights(model, [](const float* w, const float* b, int in, int out) {
    return std::make_unique<Q8BlockLinear>(w, b, in, out);
  });
  g.head = std::make_unique<FloatLinear>(model.weights.output, model.weights.output_b, c.dim, c.vocab_size);
  bind_program(g, model, false);
  g.describe = "q8 blocks of 32 (fp32 on the host, reference baseline)";
  return g;
}

}  // namespace llmnpu
