// halves_to_floats with NEON's fcvtl (every Armv8-A core), 4 values per instruction.
#include <arm_neon.h>

#include "core/half_rows.h"
#include "core/half_rows_simd.h"

namespace llmnpu::half_rows_detail {

void halves_to_floats_neon(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  halves_to_floats_scalar(src + i, dst + i, n - i);
}

}  // namespace llmnpu::half_rows_detail
