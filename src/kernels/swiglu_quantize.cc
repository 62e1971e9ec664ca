#include "kernels/swiglu_quantize.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/quantize_outliers.h"

namespace llmnpu::kernels {

size_t silu_mul_quantize_with_outliers(const float* gate, const float* up, int m, int k, size_t ld,
                                       float scale, int8_t* q, int ldq, std::vector<OutlierEntry>* outliers) {
  check(m >= 0 && k >= 0 && ld >= size_t(k) && ldq >= k, "silu_mul_quantize: bad shape ", m, "x", k);
  check(outliers != nullptr, "silu_mul_quantize: null outlier list");
  thread_local std::vector<float> h(kSwigluBlock);
  const size_t before = outliers->size();
  for (int r = 0; r < m; ++r) {
    for (int c0 = 0; c0 < k; c0 += kSwigluBlock) {
      const int n = std::min(kSwigluBlock, k - c0);
      const size_t at = size_t(r) * ld + size_t(c0);
      silu_mul(gate + at, up + at, h.data(), size_t(n));
      const size_t first = outliers->size();
      quantize_with_outliers(h.data(), 1, n, n, scale, q + size_t(r) * size_t(ldq) + size_t(c0), ldq,
                             outliers);
      for (size_t i = first; i < outliers->size(); ++i) {
        (*outliers)[i].row = r;
        (*outliers)[i].channel += c0;
      }
    }
  }
  return outliers->size() - before;
}

}  // namespace llmnpu::kernels
