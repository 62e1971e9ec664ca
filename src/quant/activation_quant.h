#pragma once
// Activation quantization of the int8 linear.
// Static (prefill): q = clamp(round(x / s), -127, 127) with one calibrated scale s; every element with
// |x / s| > 127 is also appended to an outlier list with the part the int8 value misses (x - q * s), so
// the shadow path can add it back in float: x·W = q·W·s + (x - q·s)·W.
// Dynamic (decode option): one scale per row, max|x_row| / 127, no outliers.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/outlier.h"

namespace llmnpu::quant {

// q: [T][ldq]. outliers (may be null: plain clipping) gets entries sorted by row, then channel.
void quantize_static(const float* x, int T, size_t ldx, int K, float scale, int8_t* q, size_t ldq,
                     std::vector<kernels::OutlierEntry>* outliers);

// Returns the row's scale (1 for an all-zero row).
float quantize_row_dynamic(const float* x, int K, int8_t* q);

}  // namespace llmnpu::quant
