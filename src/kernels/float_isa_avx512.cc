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
constexpr int kMr = 14;     // rows per microkernel: 28 accumulators + 2 B vectors + 1 broadcast = 31 zmm

inline __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }

// C[MR][nv] = init + A[MR][K] · panel[K][32], init = (load_c ? C : 0) + (bias ? bias : 0). A rows are read
// in place (one broadcast per element): the packed panel (K x 128 bytes) is the operand reused across the
// M loop and stays in L1.
template <int MR>
void micro(const float* a, size_t lda, const float* b, int K, float* c, size_t ldc, int nv, const float* bias,
           bool load_c) {
  const __mmask16 m0 = tail_mask(nv), m1 = nv > 16 ? tail_mask(nv - 16) : 0;
  __m512 acc0[MR], acc1[MR];
  const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 bias1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
  for (int r = 0; r < MR; ++r) {
    if (load_c) {
      acc0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
      acc1[r] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
      if (bias) acc0[r] = _mm512_add_ps(acc0[r], bias0), acc1[r] = _mm512_add_ps(acc1[r], bias1);
    } else {
      acc0[r] = bias0, acc1[r] = bias1;
    }
  }
  // Two row pointers keep every broadcast address a base + index form (no extra address arithmetic).
  const float* a_lo = a;
  const float* a_hi = a + (MR > 7 ? 7 : 0) * lda;
  for (int k = 0; k < K; ++k) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    b += kPanel;
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      __m512 av = _mm512_set1_ps(r < 7 ? a_lo[r * lda] : a_hi[(r - 7) * lda]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
    }
    ++a_lo, ++a_hi;
  }
  for (int r = 0; r < MR; ++r) {
    _mm512_mask_storeu_ps(c + r * ldc, m0, acc0[r]);
    _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc1[r]);
  }
}

using MicroFn = void (*)(const float*, size_t, const float*, int, float*, size_t, int, const float*, bool);
constexpr MicroFn kMicro[kMr + 1] = {nullptr,   micro<1>,  micro<2>,  micro<3>,  micro<4>,
                                     micro<5>,  micro<6>,  micro<7>,  micro<8>,  micro<9>,
                                     micro<10>, micro<11>, micro<12>, micro<13>, micro<14>};

void gemm_packed_init(const float* a, size_t lda, const float* b, int M, int N, int K, float* c, size_t ldc,
                      const float* bias, bool load_c) {
  for (int n0 = 0; n0 < N; n0 += kPanel) {
    const float* panel = b + size_t(n0 / kPanel) * kPanel * size_t(K);
    const float* panel_bias = bias ? bias + n0 : nullptr;
    int nv = N - n0 < kPanel ? N - n0 : kPanel;
    int m = 0;
    for (; m + kMr <= M; m += kMr)
      micro<kMr>(a + m * lda, lda, panel, K, c + m * ldc + n0, ldc, nv, panel_bias, load_c);
    if (m < M) kMicro[M - m](a + m * lda, lda, panel, K, c + m * ldc + n0, ldc, nv, panel_bias, load_c);
  }
}

void gemm_packed(const float* a, size_t lda, const float* b, int M, int N, int K, float* c, size_t ldc) {
  gemm_packed_init(a, lda, b, M, N, K, c, ldc, nullptr, true);
}

// In-register transpose of 16 rows of 16 floats: r[i][j] -> r[j][i].
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  // u[4g + c], 128-bit lane L: rows 4g..4g+3 at column 4L + c.
  for (int g = 0; g < 4; ++g) {
    __m512 lo01 = t[4 * g], hi01 = t[4 * g + 1], lo23 = t[4 * g + 2], hi23 = t[4 * g + 3];
    u[4 * g + 0] = _mm512_shuffle_ps(lo01, lo23, 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(lo01, lo23, 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(hi01, hi23, 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(hi01, hi23, 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    r[c + 8] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    r[c + 4] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[c + 12] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
}

// pack_b_from_nk with 16x16 register transposes: rows of W are read 16 floats at a time and written as
// 16 panel rows, instead of one scattered store per element.
void pack_b_nk(const float* w, size_t ldw, int n0, int n, int k0, int k, int panel, float* out) {
  if (panel != kPanel) return pack_b_from_nk(w, ldw, n0, n, k0, k, panel, out);
  for (int p = 0; p < n; p += kPanel) {
    float* dst = out + size_t(p / kPanel) * kPanel * size_t(k);
    for (int half = 0; half < kPanel; half += 16) {
      const int rows = n - p - half;  // valid W rows in this group of 16 (may be <= 0: zero fill)
      const float* src = w + size_t(n0 + p + half) * ldw + k0;
      for (int kk = 0; kk < k; kk += 16) {
        const __mmask16 km = tail_mask(k - kk);
        __m512 r[16];
        for (int i = 0; i < 16; ++i)
          r[i] = i < rows ? _mm512_maskz_loadu_ps(km, src + size_t(i) * ldw + kk) : _mm512_setzero_ps();
        transpose16(r);
        const int kn = k - kk < 16 ? k - kk : 16;
        for (int j = 0; j < kn; ++j) _mm512_storeu_ps(dst + size_t(kk + j) * kPanel + half, r[j]);
      }
    }
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
// Clamp = false is for inputs known to be <= 0 (softmax after the max shift): lanes below -87.3
// (including -inf, whose NaN polynomial is masked) still give 0, and two instructions are saved.
template <bool Clamp = true>
inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f);
  __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  if constexpr (Clamp) x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
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
  // p * 2^n in one instruction (n is integral and within [-126, 128)); underflowed lanes become 0.
  return _mm512_maskz_scalef_ps(__mmask16(~underflow), p, n);
}

float exp_shift_sum(float* x, int n, float shift) {
  __m512 sv = _mm512_set1_ps(shift), sum = _mm512_setzero_ps();
  for (int i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512 e = exp_ps<false>(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sv));
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
    // g / (1 + e^-g) with a refined reciprocal: one Newton step on rcp14 (about 2^-28 relative error)
    // instead of a division, whose throughput is the bottleneck of this loop.
    const __m512 d = _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g)));
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
    const __m512 s = _mm512_mul_ps(g, r);
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

// Up to 64 columns per pass over the rows, two rows per step into two sets of accumulators (FMA latency),
// each row's vectors loaded once; the sets are added at the end.
void weighted_row_sum(const float* p, int n, const float* x, size_t ldx, int d, float* y) {
  for (int c0 = 0; c0 < d; c0 += 64) {
    __mmask16 m[4];
    for (int v = 0; v < 4; ++v) m[v] = d - c0 - 16 * v <= 0 ? __mmask16(0) : tail_mask(d - c0 - 16 * v);
    __m512 even[4], odd[4];
    for (int v = 0; v < 4; ++v) even[v] = odd[v] = _mm512_setzero_ps();
    const float* row = x + c0;
    int j = 0;
    for (; j + 2 <= n; j += 2, row += 2 * ldx) {
      const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);
      for (int v = 0; v < 4; ++v) {
        even[v] = _mm512_fmadd_ps(p0, _mm512_maskz_loadu_ps(m[v], row + 16 * v), even[v]);
        odd[v] = _mm512_fmadd_ps(p1, _mm512_maskz_loadu_ps(m[v], row + ldx + 16 * v), odd[v]);
      }
    }
    if (j < n) {
      const __m512 p0 = _mm512_set1_ps(p[j]);
      for (int v = 0; v < 4; ++v)
        even[v] = _mm512_fmadd_ps(p0, _mm512_maskz_loadu_ps(m[v], row + 16 * v), even[v]);
    }
    for (int v = 0; v < 4; ++v) {
      const __m512 sum = _mm512_add_ps(even[v], odd[v]);
      _mm512_mask_storeu_ps(y + c0 + 16 * v, m[v],
                            _mm512_add_ps(_mm512_maskz_loadu_ps(m[v], y + c0 + 16 * v), sum));
    }
  }
}

const FloatIsa kIsa = {"avx512",  kPanel,    gemm_packed,      gemv_rows,       dot, axpy,
                       scale,     max,       exp_shift_sum,    silu_mul,        add, sum_squares,
                       scale_mul, pack_b_nk, gemm_packed_init, weighted_row_sum};

}  // namespace

const FloatIsa* float_isa_avx512() {
  const CpuFeatures& f = cpu_features();
  return f.avx512f && f.fma ? &kIsa : nullptr;
}

}  // namespace llmnpu::kernels::detail
