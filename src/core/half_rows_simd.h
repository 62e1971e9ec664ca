#pragma once
// The SIMD versions of halves_to_floats, in files named for their instruction set (not a public header).
#include <cstddef>
#include <cstdint>

namespace llmnpu::half_rows_detail {

#if defined(__x86_64__)
void halves_to_floats_f16c(const uint16_t* src, float* dst, size_t n);  // half_rows_x86.cc (F16C)
#elif defined(__aarch64__)
void halves_to_floats_neon(const uint16_t* src, float* dst, size_t n);  // half_rows_neon.cc
#endif

}  // namespace llmnpu::half_rows_detail
