// halves_to_floats with F16C (vcvtph2ps), 8 values per instruction; called only where cpuid reports F16C.
#include <immintrin.h>

#include "core/half_rows.h"
#include "core/half_rows_simd.h"

namespace llmnpu::half_rows_detail {

__attribute__((target("avx,f16c"))) void halves_to_floats_f16c(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  halves_to_floats_scalar(src + i, dst + i, n - i);
}

}  // namespace llmnpu::half_rows_detail
