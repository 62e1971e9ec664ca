#include "core/half_rows.h"

#include "core/cpu_features.h"
#include "core/half.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace llmnpu {

void halves_to_floats_scalar(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

namespace {

#if defined(__x86_64__)
__attribute__((target("avx,f16c"))) void halves_to_floats_f16c(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  halves_to_floats_scalar(src + i, dst + i, n - i);
}
#elif defined(__aarch64__)
void halves_to_floats_neon(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  halves_to_floats_scalar(src + i, dst + i, n - i);
}
#endif

}  // namespace

void halves_to_floats(const uint16_t* src, float* dst, size_t n) {
#if defined(__x86_64__)
  static const bool f16c = cpu_features().f16c;
  if (f16c) return halves_to_floats_f16c(src, dst, n);
#elif defined(__aarch64__)
  return halves_to_floats_neon(src, dst, n);
#endif
  halves_to_floats_scalar(src, dst, n);
}

}  // namespace llmnpu
