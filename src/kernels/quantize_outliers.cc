#include "kernels/quantize_outliers.h"

#include <algorithm>
#include <cmath>

#include "core/cpu_features.h"
#include "core/error.h"

namespace llmnpu {

static void validate(const float* x, int m, int k, int ldx, float scale, const int8_t* q, int ldq,
                     const std::vector<kernels::OutlierEntry>* outliers) {
  check(m >= 0 && k >= 0, "quantize_with_outliers: negative shape ", m, "x", k);
  check(ldx >= k && ldq >= k, "quantize_with_outliers: row stride smaller than K=", k);
  check(scale > 0.0f && std::isfinite(scale), "quantize_with_outliers: bad scale ", scale);
  check(outliers != nullptr, "quantize_with_outliers: null outlier list");
  check(m == 0 || k == 0 || (x && q), "quantize_with_outliers: null data");
}

size_t quantize_with_outliers_reference(const float* x, int m, int k, int ldx, float scale, int8_t* q,
                                        int ldq, std::vector<kernels::OutlierEntry>* outliers) {
  validate(x, m, k, ldx, scale, q, ldq, outliers);
  const float inv = 1.0f / scale;
  const size_t before = outliers->size();
  for (int r = 0; r < m; ++r) {
    for (int c = 0; c < k; ++c) {
      const float v = x[size_t(r) * ldx + c];
      const float xs = v * inv;
      const float clamped = std::min(127.0f, std::max(-127.0f, xs));
      q[size_t(r) * ldq + c] = int8_t(std::nearbyint(clamped));
      if (std::abs(xs) > 127.0f) outliers->push_back(quantize_detail::outlier_entry(r, c, v, xs, scale));
    }
  }
  return outliers->size() - before;
}

size_t quantize_with_outliers(const float* x, int m, int k, int ldx, float scale, int8_t* q, int ldq,
                              std::vector<kernels::OutlierEntry>* outliers) {
  validate(x, m, k, ldx, scale, q, ldq, outliers);
#if defined(__x86_64__)
  if (cpu_features().avx512f && cpu_features().avx512bw)
    return quantize_detail::quantize_avx512(x, m, k, ldx, scale, q, ldq, outliers);
#elif defined(__aarch64__)
  if (cpu_features().neon) return quantize_detail::quantize_neon(x, m, k, ldx, scale, q, ldq, outliers);
#endif
  return quantize_with_outliers_reference(x, m, k, ldx, scale, q, ldq, outliers);
}

}  // namespace llmnpu
