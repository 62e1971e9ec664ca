#pragma once
// Activation quantization for the int8 path, with outlier extraction in the same pass (the input side of
// shadow outlier execution): x.W = clip(x/s).W.s + (x - clip(x/s).s).W, where the second term is sparse.
//
// For each element: xs = x * (1 / s) (the reciprocal is rounded to float once)
//   q = nearbyint(clamp(xs, -127, 127))                       (round half to even)
//   if |xs| > 127: an OutlierEntry {row, channel, value = x - c * s} with c = +-127 (float units: the part
//   of x the int8 value does not represent; add value * W[:, channel] to output row `row`).
// Non-finite input: NaN gives q = -127 and no entry; +-inf gives q = +-127 and an entry of +-inf.
// Entries are appended sorted by row, then channel.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/outlier.h"

namespace llmnpu {

// x: m rows of k floats (row stride ldx); q: m rows of k int8 (row stride ldq). Returns entries appended.
size_t quantize_with_outliers(const float* x, int m, int k, int ldx, float scale, int8_t* q, int ldq,
                              std::vector<kernels::OutlierEntry>* outliers);

// Plain loops, the same arithmetic (for tests and CPUs without AVX-512).
size_t quantize_with_outliers_reference(const float* x, int m, int k, int ldx, float scale, int8_t* q,
                                        int ldq, std::vector<kernels::OutlierEntry>* outliers);

namespace quantize_detail {
#if defined(__x86_64__)
size_t quantize_avx512(const float* x, int m, int k, int ldx, float scale, int8_t* q, int ldq,
                       std::vector<kernels::OutlierEntry>* outliers);
#elif defined(__aarch64__)
size_t quantize_neon(const float* x, int m, int k, int ldx, float scale, int8_t* q, int ldq,
                     std::vector<kernels::OutlierEntry>* outliers);
#endif
// The outlier entry of one element (shared so both versions round identically).
inline kernels::OutlierEntry outlier_entry(int row, int channel, float x, float xs, float scale) {
  const float clipped = xs > 0 ? 127.0f : -127.0f;
  const float represented = clipped * scale;
  return {row, channel, x - represented};
}
}  // namespace quantize_detail

}  // namespace llmnpu
