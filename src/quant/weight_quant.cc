#include "quant/weight_quant.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace llmnpu::quant {

static float absmax(const float* p, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(p[i]));
  return m;
}

QuantizedWeights quantize_weights(const float* w, int out, int in, bool per_channel) {
  check(out > 0 && in > 0, "quantize_weights: empty matrix ", out, "x", in);
  QuantizedWeights r;
  r.out = out;
  r.in = in;
  r.per_channel = per_channel;
  const size_t K = size_t(in);
  r.q.resize(size_t(out) * K);
  if (per_channel) {
    r.scales.resize(size_t(out));
    for (size_t n = 0; n < size_t(out); ++n) {
      float m = absmax(w + n * K, K);
      check(std::isfinite(m), "quantize_weights: non-finite weight in row ", n);
      r.scales[n] = m > 0 ? m / 127.0f : 1.0f;
    }
  } else {
    float m = absmax(w, size_t(out) * K);
    check(std::isfinite(m), "quantize_weights: non-finite weight");
    r.scales.assign(1, m > 0 ? m / 127.0f : 1.0f);
  }
  for (size_t n = 0; n < size_t(out); ++n) {
    const float inv = 1.0f / r.scales[per_channel ? n : 0];
    for (size_t k = 0; k < K; ++k)
      r.q[n * K + k] = int8_t(std::clamp(std::nearbyint(w[n * K + k] * inv), -127.0f, 127.0f));
  }
  return r;
}

}  // namespace llmnpu::quant
