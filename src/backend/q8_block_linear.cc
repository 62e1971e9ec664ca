#include "backend/q8_block_linear.h"

#include <algorithm>
#include <cmath>

#include "backend/float_linear.h"
#include "core/error.h"
#include "kernels/float_gemm.h"
#include "model/tensor_names.h"

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

Q8BlockLinear::Q8BlockLinear(const MatrixRef& weight, const float* bias)
    : LinearOp(weight.cols, weight.rows), weight_(weight), bias_(bias) {
  check(bool(weight), "q8 block linear: missing weights");
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
  const size_t in = K;
  forward_in_row_blocks(
      weight_,
      [in](float* rows, int n) {
        for (int r = 0; r < n; ++r) q8_block_roundtrip(rows + size_t(r) * in, in);
      },
      xq.data(), T, K, y, ldy, bias_, accumulate, pool);
}

ModelGraph build_q8_block_graph(const Model& model) {
  ModelGraph g = build_graph_from_weights(
      model, [](const MatrixRef& w, const float* b) { return std::make_unique<Q8BlockLinear>(w, b); });
  g.head = std::make_unique<FloatLinear>(model.matrix(-1, TensorRole::Output), model.weights.output_b);
  bind_program(g, model, false);
  g.describe = "q8 blocks of 32 (fp32 on the host, reference baseline)";
  return g;
}

}  // namespace llmnpu
