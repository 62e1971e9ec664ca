#pragma once
// Integer GEMM of the accelerator role: C[M][N] = A[M][K] (int8) x W[N][K]^T (int8), int32 accumulation,
// with a fused epilogue (dequantize, bias, residual; fp32 out or requantized int8 out).
//
// Weights are packed once (model load) with pack_int8_weights(); every implementation (AVX-512 VNNI,
// AVX2 with or without AVX-VNNI, scalar) reads the same packed layout, so packing does not depend on
// which kernel runs. See docs/kernels-int8.md for the layout and the unsigned-times-signed trick.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "core/aligned_memory.h"

namespace llmnpu {

class ThreadPool;

// Packed layout: columns grouped in panels of up to 64 (the last panel holds the remaining columns,
// rounded up to a multiple of 16). Panel p starts at p * kPanelBytesPerK4 * k4 and stores, for each group
// of 4 consecutive k, its columns side by side with their 4 k-bytes adjacent:
//   data[p][k4][c][j] = W[64p + c][4*k4 + j]   (zero for padded columns and k >= K)
// so one 64-byte vector holds 16 columns x 4 k: the operand layout of vpdpbusd / sdot.
struct PackedInt8Matrix {
  static constexpr int kPanelColumns = 64;
  static constexpr int kPanelBytesPerK4 = kPanelColumns * 4;

  int n = 0, k = 0;
  int k4 = 0;      // ceil(K / 4)
  int panels = 0;  // ceil(N / 64)
  bool per_channel = false;
  AlignedArray<int8_t> data;
  AlignedArray<int32_t> column_sums;  // [panels * 64] sum_k W[n][k]; 0 in padding
  AlignedArray<float> scales;         // [panels * 64] weight scale per column (per-tensor: repeated)

  // Columns actually stored in panel p (a multiple of 16).
  int panel_width(int p) const;
  const int8_t* panel(int p) const { return data.data() + size_t(p) * kPanelBytesPerK4 * size_t(k4); }
};

// scales: N floats if per_channel, else 1. Values must be in -127..127 (the AVX2 maddubs path relies on it).
PackedInt8Matrix pack_int8_weights(const int8_t* w, int n, int k, const float* scales, bool per_channel);

// Bytes of the panel data of an N x K matrix (what a prepared file stores per int8 linear).
size_t packed_int8_bytes(int n, int k);
// Wraps panel data that is already in the packed layout (a mapped prepared file) without copying it; the
// column sums are computed here and the padding is checked to be zero. Throws Error on a -128 or a
// non-zero padding byte.
PackedInt8Matrix view_packed_int8(const int8_t* data, size_t bytes, int n, int k, const float* scales,
                                  bool per_channel);
// Column k of W dequantized: out[n] = W[n][k] * scale[n], n < N (a shadow row derived from the int8 weights).
void unpack_int8_column(const PackedInt8Matrix& w, int k, float* out);
// Row n of W as stored (K int8 values).
void unpack_int8_row(const PackedInt8Matrix& w, int n, int8_t* out);

// What happens to each int32 result acc[m][n]:
//   s = a_scale * w_scale[n]                                      (rounded to float)
//   if row_scales: s = s * row_scales[m]                          (rows quantized with their own scale)
//   v = fma(float(acc), s, bias ? bias[n] : 0)
//   if residual: v = v + residual[m * ld_residual + n]
//   out_f32[m * ld_out + n] = v                                   (if out_f32)
//   out_i8[m * ld_out + n] = clamp(nearbyint(v * (1 / out_scale)), -127, 127)   (if out_i8)
// out_i32, if set, receives the raw acc instead (no scale, bias or residual), for tests and for callers
// that post-process themselves. Exactly one of out_f32, out_i8, out_i32 must be set.
struct Int8Epilogue {
  const float* bias = nullptr;
  const float* residual = nullptr;
  int ld_residual = 0;
  float* out_f32 = nullptr;
  int8_t* out_i8 = nullptr;
  int32_t* out_i32 = nullptr;
  int ld_out = 0;
  float out_scale = 1.0f;  // for out_i8
  // Per row of the call: its activation scale as a multiple of a_scale (null: 1 for every row).
  const float* row_scales = nullptr;
};

// Amx: Intel AMX tiles (tdpbssd) where the CPU and OS have them, for K a multiple of 64 and M >= 5; other
// shapes given Amx (and decode-sized M <= 4, where streaming the weights once is what counts) run on
// Avx512Vnni.
// Neon: aarch64 widening multiplies (every Armv8-A core); NeonDotprod: SDOT (Armv8.2 dotprod); NeonI8mm:
// SMMLA (the int8 matrix multiply, FEAT_I8MM) for two rows or more, SDOT for a single row (decode), where
// half of each 2 x 2 SMMLA block would be wasted.
enum class Int8Kernel { Auto, Scalar, Avx2, Avx2Vnni, Avx512Vnni, Amx, Neon, NeonDotprod, NeonI8mm };

Int8Kernel best_int8_kernel();  // chosen once from cpu_features()
bool int8_kernel_available(Int8Kernel kernel);
const char* int8_kernel_name(Int8Kernel kernel);

// a: M rows of K int8 values (row stride lda >= K), symmetric per-tensor scale a_scale.
// pool: null = run on the calling thread. Calls with little work (< 2 MiB of weights and < 64M
// multiply-adds) also run on the calling thread: waking the pool would cost more. Results are
// bit-identical for any thread count.
void int8_gemm(const int8_t* a, int m, int lda, const PackedInt8Matrix& w, float a_scale,
               const Int8Epilogue& ep, ThreadPool* pool, Int8Kernel kernel = Int8Kernel::Auto);

// Scalar reference on the unpacked weights W[N][K] (what the tests compare against).
void int8_gemm_reference(const int8_t* a, int m, int lda, const int8_t* w, int n, int k,
                         const float* w_scales, bool per_channel, float a_scale, const Int8Epilogue& ep);

}  // namespace llmnpu
