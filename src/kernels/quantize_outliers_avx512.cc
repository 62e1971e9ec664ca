// 16 floats per step: scale, clamp, round, narrow to int8; a compare flags |x/s| > 127 and the (rare)
// flagged lanes are appended one by one.
// GCC 12 reports its own masked-intrinsic helpers as maybe-uninitialized (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/quantize_outliers.h"

namespace llmnpu::quantize_detail {

size_t quantize_avx512(const float* x, int m, int k, int ldx, float scale, int8_t* q, int ldq,
                       std::vector<kernels::OutlierEntry>* outliers) {
  const float inv = 1.0f / scale;
  const __m512 vinv = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  const size_t before = outliers->size();
  for (int r = 0; r < m; ++r) {
    const float* xr = x + size_t(r) * ldx;
    int8_t* qr = q + size_t(r) * ldq;
    for (int c = 0; c < k; c += 16) {
      const int left = k - c;
      const __mmask16 mask = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
      const __m512 v = _mm512_maskz_loadu_ps(mask, xr + c);
      const __m512 xs = _mm512_mul_ps(v, vinv);
      const __m512 clamped = _mm512_min_ps(_mm512_max_ps(xs, lo), hi);  // max_ps(NaN, lo) = lo
      _mm512_mask_cvtepi32_storeu_epi8(qr + c, mask, _mm512_cvtps_epi32(clamped));
      __mmask16 flagged = _mm512_mask_cmp_ps_mask(mask, _mm512_abs_ps(xs), hi, _CMP_GT_OQ);
      while (flagged) {
        const int lane = __builtin_ctz(flagged);
        flagged &= flagged - 1;
        outliers->push_back(outlier_entry(r, c + lane, xr[c + lane], xr[c + lane] * inv, scale));
      }
    }
  }
  return outliers->size() - before;
}

}  // namespace llmnpu::quantize_detail
