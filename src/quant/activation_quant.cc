#include "quant/activation_quant.h"

#include <algorithm>
#include <cmath>

namespace llmnpu::quant {

void quantize_static(const float* x, int T, size_t ldx, int K, float scale, int8_t* q, size_t ldq,
                     std::vector<kernels::OutlierEntry>* outliers) {
  const float inv = 1.0f / scale;
  for (int t = 0; t < T; ++t) {
    const float* row = x + size_t(t) * ldx;
    int8_t* out = q + size_t(t) * ldq;
    for (int k = 0; k < K; ++k) {
      const float v = row[k] * inv;
      const float r = std::clamp(std::nearbyint(v), -127.0f, 127.0f);
      out[k] = int8_t(r);
      if (outliers && std::fabs(v) > 127.0f) outliers->push_back({t, k, row[k] - r * scale});
    }
  }
}

float quantize_row_dynamic(const float* x, int K, int8_t* q) {
  float m = 0;
  for (int k = 0; k < K; ++k) m = std::max(m, std::fabs(x[k]));
  const float scale = m > 0 ? m / 127.0f : 1.0f;
  const float inv = 1.0f / scale;
  for (int k = 0; k < K; ++k) q[k] = int8_t(std::clamp(std::nearbyint(x[k] * inv), -127.0f, 127.0f));
  return scale;
}

}  // namespace llmnpu::quant
