#include "core/half_rows.h"

#include "core/cpu_features.h"
#include "core/half.h"
#include "core/half_rows_simd.h"

namespace llmnpu {

void halves_to_floats_scalar(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = half_to_float(src[i]);
}

void halves_to_floats(const uint16_t* src, float* dst, size_t n) {
#if defined(__x86_64__)
  static const bool f16c = cpu_features().f16c;
  if (f16c) return half_rows_detail::halves_to_floats_f16c(src, dst, n);
#elif defined(__aarch64__)
  return half_rows_detail::halves_to_floats_neon(src, dst, n);
#endif
  halves_to_floats_scalar(src, dst, n);
}

}  // namespace llmnpu
