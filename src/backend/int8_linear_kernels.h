#pragma once
// The SIMD kernels of backend/int8_linear.cc, in files named for their instruction set (not a public
// header). Int8Linear and Int8Head choose between them and their portable versions at run time.
#include <cstddef>
#include <cstdint>

#include "kernels/int8_gemm.h"
#include "kernels/outlier.h"

namespace llmnpu::int8_linear_detail {

constexpr int kHeadBlockK4 = 8;  // the head's activation blocks: 8 groups of 4 = 32 inputs (as Q8_0)

// The int8 head's decode GEMV over panels [p0, p1), portable (the twin the SIMD versions are tested
// against): q is the row quantized per block of 32 inputs (K padded with zeros to whole groups of 4),
// block_scales its scale per block. Per output n: the int32 dot of each block, then in fp32
//   s0 = sum over blocks b < blocks / 2, s1 = sum over the rest, each fma(dot_b, block_scale_b * ws_b(n), s)
//   in block order; out[n] = (s0 + s1) * row_scale[n] (+ residual[n])
// where ws_b(n) is the F16 fraction of the weight row's scale stored per [panel][block][64 columns].
void head_gemv_panels_scalar(const int8_t* q, const float* block_scales, const PackedInt8Matrix& w,
                             const uint16_t* weight_block_scales, const float* row_scales,
                             const float* residual, float* out, int p0, int p1);

#if defined(__x86_64__)
// int8_linear_avx512.cc
// The shadow sum of one output row: d[n] = the entries' value_i * W_i[n] chained with fma from zero, in
// entry order, for n0 <= n < n1 (W_i an F16 weight row). kAdd: y[n] = y[n] + d[n]; else y[n] = d[n].
template <bool kAdd>
void shadow_rows_avx512(const kernels::OutlierEntry* e, const uint16_t* const* rows, size_t count, int n0,
                        int n1, float* y);
// The F16 shadow row of channel k derived from the int8 weights: out[n] = half(W[n][k] * scale[n]), n < N;
// the same halves as the portable decode (round to nearest even).
void decode_shadow_row_avx512(const PackedInt8Matrix& w, int k, uint16_t* out);
// vpdpbusd multiplies unsigned by signed bytes. The decode GEMV's operand: A + 128 (k values, then 128 up
// to `padded`: the padding weights are 0).
void gemv_operand_avx512(const int8_t* a, int k, size_t padded, uint8_t* out);
// The head's: |q| as the unsigned operand and q's signs as a per-byte mask applied to the weights (no
// column-sum correction needed), from q (k4 groups of 4).
void head_operand_avx512(const int8_t* q, int k4, uint8_t* mag, uint64_t* signs);
// Decode: one row of A + 128 (unsigned, K padded to whole groups of 4) over panels [p0, p1), into fp32.
void gemv_panels_avx512(const uint8_t* a, const PackedInt8Matrix& w, float a_scale, const Int8Epilogue& ep,
                        int p0, int p1);
// The int8 head's decode GEMV over panels [p0, p1) (head_gemv_panels_scalar's sums, bit-identical), with
// the row given as magnitudes |q| and per group of 4 a sign mask (4 bits repeated in every 4-byte lane).
void head_gemv_panels_avx512(const uint8_t* mag, const uint64_t* signs, const float* block_scales,
                             const PackedInt8Matrix& w, const uint16_t* weight_block_scales,
                             const float* row_scales, const float* residual, float* out, int p0, int p1);
#elif defined(__aarch64__)
// int8_linear_neon.cc: shadow_rows_avx512's sums on NEON (bit-identical to the scalar loop).
template <bool kAdd>
void shadow_rows_neon(const kernels::OutlierEntry* e, const uint16_t* const* rows, size_t count, int n0,
                      int n1, float* y);
// decode_shadow_row_avx512 on NEON.
void decode_shadow_row_neon(const PackedInt8Matrix& w, int k, uint16_t* out);
// int8_linear_dotprod.cc (SDOT).
// Decode: one row of A (int8, K padded with zeros to whole groups of 4 plus 16 bytes) over panels [p0, p1),
// into fp32 with int8_gemm's epilogue.
void gemv_panels_dotprod(const int8_t* a, const PackedInt8Matrix& w, float a_scale, const Int8Epilogue& ep,
                         int p0, int p1);
// head_gemv_panels_scalar on SDOT (bit-identical).
void head_gemv_panels_dotprod(const int8_t* q, const float* block_scales, const PackedInt8Matrix& w,
                              const uint16_t* weight_block_scales, const float* row_scales,
                              const float* residual, float* out, int p0, int p1);
#endif

}  // namespace llmnpu::int8_linear_detail
