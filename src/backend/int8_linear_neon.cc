// The NEON kernels of backend/int8_linear.cc (declared in backend/int8_linear_kernels.h).
#include <arm_neon.h>

#include <cmath>

#include "backend/int8_linear_kernels.h"
#include "core/half.h"

namespace llmnpu::int8_linear_detail {

// 16 columns at a time: each entry's F16 weight row converted in registers (fcvtl) and accumulated with
// fused multiply-adds in entry order, as the scalar loop does (bit-identical sums).
template <bool kAdd>
void shadow_rows_neon(const kernels::OutlierEntry* e, const uint16_t* const* rows, size_t count, int n0,
                      int n1, float* y) {
  int n = n0;
  for (; n + 16 <= n1; n += 16) {
    float32x4_t d[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    for (size_t i = 0; i < count; ++i) {
      const float32x4_t v = vdupq_n_f32(e[i].value);
      const float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(rows[i] + n));
      const float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(rows[i] + n + 8));
      d[0] = vfmaq_f32(d[0], v, vcvt_f32_f16(vget_low_f16(h0)));
      d[1] = vfmaq_f32(d[1], v, vcvt_high_f32_f16(h0));
      d[2] = vfmaq_f32(d[2], v, vcvt_f32_f16(vget_low_f16(h1)));
      d[3] = vfmaq_f32(d[3], v, vcvt_high_f32_f16(h1));
    }
    for (int q = 0; q < 4; ++q) {
      float* at = y + n + 4 * q;
      vst1q_f32(at, kAdd ? vaddq_f32(vld1q_f32(at), d[q]) : d[q]);
    }
  }
  for (; n < n1; ++n) {
    float d = 0;
    for (size_t i = 0; i < count; ++i) d = std::fma(e[i].value, half_to_float(rows[i][n]), d);
    y[n] = kAdd ? y[n] + d : d;
  }
}

template void shadow_rows_neon<true>(const kernels::OutlierEntry*, const uint16_t* const*, size_t, int, int,
                                     float*);
template void shadow_rows_neon<false>(const kernels::OutlierEntry*, const uint16_t* const*, size_t, int, int,
                                      float*);

}  // namespace llmnpu::int8_linear_detail
