#pragma once
// Tensor element types of the ggml/GGUF family (numbering as in the GGUF spec) and their block sizes.
#include <cstddef>
#include <cstdint>

namespace llmnpu {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct GgmlTypeInfo {
  const char* name;
  size_t block_elements;  // elements per block (1 for plain types)
  size_t block_bytes;     // bytes per block; 0 = type not supported by this engine
};

// Returns nullptr for a type number this engine does not know.
const GgmlTypeInfo* ggml_type_info(uint32_t type);
const char* ggml_type_name(GgmlType t);
// Bytes a row of n elements takes; throws Error if n is not a whole number of blocks.
size_t ggml_row_bytes(GgmlType t, uint64_t n);

// Converts n elements of a supported type (F32, F16, BF16, I8, I32, and the block-quantized types of
// format/ggml_dequant.h) to float.
// Throws Error for types the float path cannot read.
void ggml_to_float(GgmlType t, const void* src, float* dst, size_t n);

}  // namespace llmnpu
