#pragma once
// Internal: the SIMD building blocks of the float kernels, one table per instruction set, chosen once at
// run time from core/cpu_features.h. The drivers (GEMM blocking, attention tiling) are written once
// against this table; only these inner loops differ per ISA.
#include <cstddef>
#include <vector>

namespace llmnpu::kernels::detail {

struct FloatIsa {
  const char* name;
  // Width of a packed B panel in columns. B for gemm_packed is a run of panels, panel p holding columns
  // [p*panel, p*panel + panel) as K rows of `panel` floats (columns past N zero-padded).
  int panel;
  // C[M][N] += A[M][K] · B (A row-major with stride lda, C with stride ldc).
  void (*gemm_packed)(const float* a, size_t lda, const float* b_packed, int M, int N, int K, float* c,
                      size_t ldc);
  // y[r] = dot(w + r*ldw, x) for r < rows (rows of a [N][K] weight matrix times a vector).
  void (*gemv_rows)(const float* w, size_t ldw, const float* x, int K, int rows, float* y);
  float (*dot)(const float* a, const float* b, int n);
  void (*axpy)(float alpha, const float* x, float* y, int n);  // y += alpha * x
  void (*scale)(float* x, int n, float s);                     // x *= s
  float (*max)(const float* x, int n);                         // -inf when n == 0
  // x = exp(x - shift), returns the sum; shift >= max(x) (every caller shifts by the max: no overflow)
  float (*exp_shift_sum)(float* x, int n, float shift);
  void (*silu_mul)(const float* gate, const float* up, float* out, size_t n);
  void (*add)(const float* a, const float* b, float* out, size_t n);
  float (*sum_squares)(const float* x, int n);
  void (*scale_mul)(const float* x, float s, const float* w, float* y, int n);  // y = x * s * w
  // pack_b_from_nk (below) for this table's panel width, vectorized where the ISA allows.
  void (*pack_b_nk)(const float* w, size_t ldw, int n0, int n, int k0, int k, int panel, float* out);
  // Optional (null: initialize C, then gemm_packed): C = (load_c ? C : 0) + (bias ? bias[n] : 0) + A·B, with
  // the same rounding as that two-step sequence. Saves a pass over C for the first K block.
  void (*gemm_packed_init)(const float* a, size_t lda, const float* b_packed, int M, int N, int K, float* c,
                           size_t ldc, const float* bias, bool load_c);
  // Optional (null: axpy per row): y[0, d) += sum_j p[j] * x[j * ldx + (0, d)] over j < n, the
  // probability-weighted sum of value rows of one head in decode attention.
  void (*weighted_row_sum)(const float* p, int n, const float* x, size_t ldx, int d, float* y);
};

const FloatIsa& float_isa();         // the one in use (best available unless forced)
const FloatIsa& float_isa_scalar();  // always available
// Every table this CPU can run, scalar first (what the tests run each kernel on).
std::vector<const FloatIsa*> float_isas_available();
#if defined(__x86_64__)
const FloatIsa* float_isa_avx2();    // null when the CPU lacks AVX2+FMA
const FloatIsa* float_isa_avx512();  // null when the CPU lacks AVX-512F
#elif defined(__aarch64__)
const FloatIsa* float_isa_neon();  // null when NEON is capped off (LLMNPU_ISA=scalar)
#endif

// Tests: run the kernels on a specific table (null = automatic choice). Not thread-safe.
void force_float_isa(const FloatIsa* isa);

// Packs columns [n0, n0+n) x rows [k0, k0+k) of B into panels, B given as W[N][K] (row n = column of B).
void pack_b_from_nk(const float* w, size_t ldw, int n0, int n, int k0, int k, int panel, float* out);
// Same, B given as [K][N] row-major.
void pack_b_from_kn(const float* b, size_t ldb, int n0, int n, int k0, int k, int panel, float* out);
inline size_t packed_size(int n, int k, int panel) {
  return size_t((n + panel - 1) / panel) * size_t(panel) * size_t(k);
}

}  // namespace llmnpu::kernels::detail
