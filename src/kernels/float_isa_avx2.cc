// AVX2 + FMA inner loops of the float kernels (compiled with -mavx2 -mfma in every build; only called
// after run-time detection). Tails go through a small stack buffer instead of masked loads.
#include <immintrin.h>

#include <cstring>
#include <limits>

#include "core/cpu_features.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels::detail {
namespace {

constexpr int kPanel = 16;  // two ymm of columns
constexpr int kMr = 6;      // rows per microkernel: 12 accumulators

inline __m256i lane_mask(int n) {  // first n (0..8) lanes set
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256 load_n(const float* p, int n) {
  return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lane_mask(n < 0 ? 0 : n));
}
inline void store_n(float* p, __m256 v, int n) {
  if (n >= 8)
    _mm256_storeu_ps(p, v);
  else if (n > 0)
    _mm256_maskstore_ps(p, lane_mask(n), v);
}
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int MR>
void micro(const float* a, size_t lda, const float* b, int K, float* c, size_t ldc, int nv) {
  __m256 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) {
    acc0[r] = load_n(c + r * ldc, nv);
    acc1[r] = load_n(c + r * ldc + 8, nv - 8);
  }
  for (int k = 0; k < K; ++k) {
    __m256 b0 = _mm256_loadu_ps(b + size_t(k) * kPanel), b1 = _mm256_loadu_ps(b + size_t(k) * kPanel + 8);
    for (int r = 0; r < MR; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r * lda + k);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    store_n(c + r * ldc, acc0[r], nv);
    store_n(c + r * ldc + 8, acc1[r], nv - 8);
  }
}

using MicroFn = void (*)(const float*, size_t, const float*, int, float*, size_t, int);
constexpr MicroFn kMicro[kMr + 1] = {nullptr, micro<1>, micro<2>, micro<3>, micro<4>, micro<5>, micro<6>};

void gemm_packed(const float* a, size_t lda, const float* b, int M, int N, int K, float* c, size_t ldc) {
  for (int n0 = 0; n0 < N; n0 += kPanel) {
    const float* panel = b + size_t(n0 / kPanel) * kPanel * size_t(K);
    int nv = N - n0 < kPanel ? N - n0 : kPanel;
    int m = 0;
    for (; m + kMr <= M; m += kMr) micro<kMr>(a + m * lda, lda, panel, K, c + m * ldc + n0, ldc, nv);
    if (m < M) kMicro[M - m](a + m * lda, lda, panel, K, c + m * ldc + n0, ldc, nv);
  }
}

float dot(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i < n; i += 8) s0 = _mm256_fmadd_ps(load_n(a + i, n - i), load_n(b + i, n - i), s0);
  return hsum(_mm256_add_ps(s0, s1));
}

void gemv_rows(const float* w, size_t ldw, const float* x, int K, int rows, float* y) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * ldw;
    const float *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int k = 0; k < K; k += 8) {
      int n = K - k;
      __m256 xv = load_n(x + k, n);
      s0 = _mm256_fmadd_ps(load_n(w0 + k, n), xv, s0);
      s1 = _mm256_fmadd_ps(load_n(w1 + k, n), xv, s1);
      s2 = _mm256_fmadd_ps(load_n(w2 + k, n), xv, s2);
      s3 = _mm256_fmadd_ps(load_n(w3 + k, n), xv, s3);
    }
    y[r] = hsum(s0), y[r + 1] = hsum(s1), y[r + 2] = hsum(s2), y[r + 3] = hsum(s3);
  }
  for (; r < rows; ++r) y[r] = dot(w + r * ldw, x, K);
}

void axpy(float alpha, const float* x, float* y, int n) {
  __m256 av = _mm256_set1_ps(alpha);
  for (int i = 0; i < n; i += 8)
    store_n(y + i, _mm256_fmadd_ps(av, load_n(x + i, n - i), load_n(y + i, n - i)), n - i);
}

void scale(float* x, int n, float s) {
  __m256 sv = _mm256_set1_ps(s);
  for (int i = 0; i < n; i += 8) store_n(x + i, _mm256_mul_ps(load_n(x + i, n - i), sv), n - i);
}

float max(const float* x, int n) {
  float best = -std::numeric_limits<float>::infinity();
  __m256 bv = _mm256_set1_ps(best);
  int i = 0;
  for (; i + 8 <= n; i += 8) bv = _mm256_max_ps(bv, _mm256_loadu_ps(x + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, bv);
  for (float v : lanes) best = v > best ? v : best;
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  return best;
}

// Same algorithm as the AVX-512 exp (see there).
inline __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3f), hi = _mm256_set1_ps(88.3f);
  __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  return _mm256_andnot_ps(underflow, result);
}

float exp_shift_sum(float* x, int n, float shift) {
  __m256 sv = _mm256_set1_ps(shift), sum = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), sv));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    __m256 e =
        _mm256_and_ps(exp_ps(_mm256_sub_ps(load_n(x + i, n - i), sv)), _mm256_castsi256_ps(lane_mask(n - i)));
    store_n(x + i, e, n - i);
    sum = _mm256_add_ps(sum, e);
  }
  return hsum(sum);
}

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 8) {
    int len = int(n - i < 8 ? n - i : 8);
    __m256 g = load_n(gate + i, len), u = load_n(up + i, len);
    __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    store_n(out + i, _mm256_mul_ps(s, u), len);
  }
}

void add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    int len = int(n - i < 8 ? n - i : 8);
    store_n(out + i, _mm256_add_ps(load_n(a + i, len), load_n(b + i, len)), len);
  }
}

float sum_squares(const float* x, int n) {
  __m256 s = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) {
    __m256 v = load_n(x + i, n - i);
    s = _mm256_fmadd_ps(v, v, s);
  }
  return hsum(s);
}

void scale_mul(const float* x, float s, const float* w, float* y, int n) {
  __m256 sv = _mm256_set1_ps(s);
  for (int i = 0; i < n; i += 8) {
    __m256 v = _mm256_mul_ps(load_n(x + i, n - i), sv);
    if (w) v = _mm256_mul_ps(v, load_n(w + i, n - i));
    store_n(y + i, v, n - i);
  }
}

const FloatIsa kIsa = {"avx2",  kPanel,        gemm_packed, gemv_rows, dot,         axpy,      scale,
                       max,     exp_shift_sum, silu_mul,    add,       sum_squares, scale_mul, pack_b_from_nk,
                       nullptr, nullptr};

}  // namespace

const FloatIsa* float_isa_avx2() { return cpu_features().has_avx2_path() ? &kIsa : nullptr; }

}  // namespace llmnpu::kernels::detail
