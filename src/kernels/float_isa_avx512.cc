// AVX-512 inner loops of the float kernels (compiled with -mavx512f... in every build; only called after
// run-time detection).
// g++ 12 reports _mm512_undefined_ps() inside its own intrinsics as uninitialized (false positive).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <limits>

#include "core/cpu_features.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels::detail {
namespace {

constexpr int kPanel = 32;  // two zmm of columns
constexpr int kMr = 8;      // rows per microkernel: 16 accumulators

inline __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// C[MR][nv] += A[MR][K] · panel[K][32].
template <int MR>
void micro(const float* a, size_t lda, const float* b, int K, float* c, size_t ldc, int nv) {
  const __mmask16 m0 = tail_mask(nv), m1 = nv > 16 ? tail_mask(nv - 16) : 0;
  __m512 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) {
    acc0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
    acc1[r] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
  }
  for (int k = 0; k < K; ++k) {
    __m512 b0 = _mm512_loadu_ps(b + size_t(k) * kPanel), b1 = _mm512_loadu_ps(b + size_t(k) * kPanel + 16);
    for (int r = 0; r < MR; ++r) {
      __m512 av = _mm512_set1_ps(a[r * lda + k]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm512_mask_storeu_ps(c + r * ldc, m0, acc0[r]);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc1[r]);
  }
}

using MicroFn = void (*)(const float*, size_t, const float*, int, float*, size_t, int);
constexpr MicroFn kMicro[kMr + 1] = {nullptr,  micro<1>, micro<2>, micro<3>, micro<4>,
                                     micro<5>, micro<6>, micro<7>, micro<8>};

void gemm_packed(const float* a, size_t lda, const float* b, int M, int N, int K, float* c, size_t ldc) {
  for (int n0 = 0; n0 < N; n0 += kPanel) {
    const float* panel = b + size_t(n0 / kPanel) * kPanel * size_t(K);
    int nv = N - n0 < kPanel ? N - n0 : kPanel;
    int m = 0;
    for (; m + kMr <= M; m += kMr) micro<kMr>(a + m * lda, lda, panel, K, c + m * ldc + n0, ldc, nv);
    if (m < M) kMicro[M - m](a + m * lda, lda, panel, K, c + m * ldc + n0, ldc, nv);
  }
}

inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

void gemv_rows(const float* w, size_t ldw, const float* x, int K, int rows, float* y) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * ldw;
    const float *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int k = 0;
    for (; k + 16 <= K; k += 16) {
      __m512 xv = _mm512_loadu_ps(x + k);
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k), xv, s0);
      s1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + k), xv, s1);
      s2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + k), xv, s2);
      s3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + k), xv, s3);
    }
    if (k < K) {
      __mmask16 m = tail_mask(K - k);
      __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
      s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + k), xv, s0);
      s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + k), xv, s1);
      s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + k), xv, s2);
      s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + k), xv, s3);
    }
    y[r] = hsum(s0), y[r + 1] = hsum(s1), y[r + 2] = hsum(s2), y[r + 3] = hsum(s3);
  }
  for (; r < rows; ++r) {
    const float* wr = w + r * ldw;
    __m512 s = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(wr + k), _mm512_loadu_ps(x + k), s);
    if (k < K) {
      __mmask16 m = tail_mask(K - k);
      s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + k), _mm512_maskz_loadu_ps(m, x + k), s);
    }
    y[r] = hsum(s);
  }
}

float dot(const float* a, const float* b, int n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return hsum(_mm512_add_ps(s0, s1));
}

void axpy(float alpha, const float* x, float* y, int n) {
  __m512 av = _mm512_set1_ps(alpha);
  for (int i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(
        y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

void scale(float* x, int n, float s) {
  __m512 sv = _mm512_set1_ps(s);
  for (int i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), sv));
  }
}

float max(const float* x, int n) {
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __m512 best = ninf;
  for (int i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    best = _mm512_max_ps(best, _mm512_mask_loadu_ps(ninf, m, x + i));
  }
  return _mm512_reduce_max_ps(best);
}

// exp(x) to ~2 ulp: x = n ln2 + r (Cody-Waite split), degree-6 Taylor polynomial on |r| <= ln2/2,
// 2^n from the exponent bits. Inputs below -87.3 (including -inf) give 0; above 88.3 saturate.
inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f);
  __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  __m512 result = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
  return _mm512_mask_mov_ps(result, underflow, _mm512_setzero_ps());
}

float exp_shift_sum(float* x, int n, float shift) {
  __m512 sv = _mm512_set1_ps(shift), sum = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sv));
    _mm512_mask_storeu_ps(x + i, m, e);
    sum = _mm512_mask_add_ps(sum, m, sum, e);
  }
  return hsum(sum);
}

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(int(n - i < 16 ? n - i : 16));
    __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
    __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g))));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(s, u));
  }
}

void add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(int(n - i < 16 ? n - i : 16));
    _mm512_mask_storeu_ps(out + i, m,
                          _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
  }
}

float sum_squares(const float* x, int n) {
  __m512 s = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
    s = _mm512_fmadd_ps(v, v, s);
  }
  return hsum(s);
}

void scale_mul(const float* x, float s, const float* w, float* y, int n) {
  __m512 sv = _mm512_set1_ps(s);
  for (int i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), sv);
    if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

const FloatIsa kIsa = {"avx512", kPanel,        gemm_packed, gemv_rows, dot,         axpy,     scale,
                       max,      exp_shift_sum, silu_mul,    add,       sum_squares, scale_mul};

}  // namespace

const FloatIsa* float_isa_avx512() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.fma ? &kIsa : nullptr;
}

}  // namespace llmnpu::kernels::detail
