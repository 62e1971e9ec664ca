#pragma once
// The block-quantized ggml types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K ... Q6_K) to float.
#include <cstddef>
#include <cstdint>

#include "format/ggml_type.h"

namespace llmnpu {

bool ggml_dequantizable(GgmlType t);
// n elements (a whole number of blocks) from src, laid out as the GGUF format stores that type.
// Throws Error for other types or a partial block.
void ggml_dequantize(GgmlType t, const uint8_t* src, float* dst, size_t n);

}  // namespace llmnpu
