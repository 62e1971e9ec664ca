#pragma once
// The input of an MLP's down projection, quantized without writing it: h = silu(gate) * up, then
// quantize_with_outliers(h). Rows are processed in blocks of kernels::kSwigluBlock columns through a
// small per-thread buffer (L1) with the very kernels of the two-step path, so the int8 codes and the
// outlier entries are identical to silu_mul followed by quantize_with_outliers, on every CPU; only the
// round trip of h through memory (4 bytes per element written, then read back) is gone.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/outlier.h"

namespace llmnpu::kernels {

inline constexpr int kSwigluBlock = 1024;

// gate, up: m rows of k floats (row stride ld each); q: m rows of k int8 (row stride ldq).
// Entries {row, channel, value} are appended sorted by row, then channel. Returns entries appended.
size_t silu_mul_quantize_with_outliers(const float* gate, const float* up, int m, int k, size_t ld,
                                       float scale, int8_t* q, int ldq, std::vector<OutlierEntry>* outliers);

}  // namespace llmnpu::kernels
