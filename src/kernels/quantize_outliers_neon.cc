// 16 floats per step on NEON: scale, clamp (maxnm/minnm: NaN becomes -127 as in the reference), round to
// nearest even, narrow to int8; an absolute compare flags |x/s| > 127 and the (rare) flagged lanes are
// appended in channel order. The tail runs the reference's scalar arithmetic.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>

#include "kernels/quantize_outliers.h"

namespace llmnpu::quantize_detail {

size_t quantize_neon(const float* x, int m, int k, int ldx, float scale, int8_t* q, int ldq,
                     std::vector<kernels::OutlierEntry>* outliers) {
  const float inv = 1.0f / scale;
  const float32x4_t vinv = vdupq_n_f32(inv), lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
  const size_t before = outliers->size();
  for (int r = 0; r < m; ++r) {
    const float* xr = x + size_t(r) * ldx;
    int8_t* qr = q + size_t(r) * ldq;
    int c = 0;
    for (; c + 16 <= k; c += 16) {
      int32x4_t rounded[4];
      uint32x4_t flagged = vdupq_n_u32(0);
      uint32x4_t flags[4];
      for (int v = 0; v < 4; ++v) {
        const float32x4_t xs = vmulq_f32(vld1q_f32(xr + c + 4 * v), vinv);
        rounded[v] = vcvtnq_s32_f32(vminnmq_f32(vmaxnmq_f32(xs, lo), hi));
        flags[v] = vcagtq_f32(xs, hi);
        flagged = vorrq_u32(flagged, flags[v]);
      }
      const int16x8_t low = vcombine_s16(vqmovn_s32(rounded[0]), vqmovn_s32(rounded[1]));
      const int16x8_t high = vcombine_s16(vqmovn_s32(rounded[2]), vqmovn_s32(rounded[3]));
      vst1q_s8(qr + c, vcombine_s8(vqmovn_s16(low), vqmovn_s16(high)));
      if (vmaxvq_u32(flagged) == 0) continue;
      for (int v = 0; v < 4; ++v) {
        uint32_t lanes[4];
        vst1q_u32(lanes, flags[v]);
        for (int j = 0; j < 4; ++j)
          if (lanes[j]) {
            const int ch = c + 4 * v + j;
            outliers->push_back(outlier_entry(r, ch, xr[ch], xr[ch] * inv, scale));
          }
      }
    }
    for (; c < k; ++c) {
      const float v = xr[c], xs = v * inv;
      qr[c] = int8_t(std::nearbyint(std::min(127.0f, std::max(-127.0f, xs))));
      if (std::abs(xs) > 127.0f) outliers->push_back(outlier_entry(r, c, v, xs, scale));
    }
  }
  return outliers->size() - before;
}

}  // namespace llmnpu::quantize_detail
