// The NEON kernels of backend/int8_linear.cc (declared in backend/int8_linear_kernels.h).
#include <arm_neon.h>

#include <algorithm>
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

// One group line of a panel holds 16 columns x 4 k per 64 bytes: shifting byte k % 4 of each 32-bit lane
// to the top and back (arithmetic) sign-extends it; then scale and round to F16 (to nearest even, as
// float_to_half), 4 columns per step.
void decode_shadow_row_neon(const PackedInt8Matrix& w, int k, uint16_t* out) {
  const size_t group = size_t(k / 4);
  const int32x4_t up = vdupq_n_s32(24 - 8 * (k % 4)), down = vdupq_n_s32(-24);
  for (int panel = 0; panel < w.panels; ++panel) {
    const int width = w.panel_width(panel);  // a multiple of 16; scales are padded alike
    const int8_t* src = w.panel(panel) + group * size_t(width) * 4;
    const int n0 = panel * PackedInt8Matrix::kPanelColumns;
    for (int c = 0; c < width && n0 + c < w.n; c += 4) {
      const int32x4_t lanes = vreinterpretq_s32_s8(vld1q_s8(src + size_t(c) * 4));
      const int32x4_t values = vshlq_s32(vshlq_s32(lanes, up), down);
      const float32x4_t scaled = vmulq_f32(vcvtq_f32_s32(values), vld1q_f32(w.scales.data() + n0 + c));
      uint16_t halves[4];
      vst1_u16(halves, vreinterpret_u16_f16(vcvt_f16_f32(scaled)));
      std::copy_n(halves, std::min(4, w.n - (n0 + c)), out + n0 + c);
    }
  }
}

template void shadow_rows_neon<true>(const kernels::OutlierEntry*, const uint16_t* const*, size_t, int, int,
                                     float*);
template void shadow_rows_neon<false>(const kernels::OutlierEntry*, const uint16_t* const*, size_t, int, int,
                                      float*);

}  // namespace llmnpu::int8_linear_detail
