// NEON inner loops of the float kernels (aarch64: Advanced SIMD is part of every Armv8-A core). The same
// algorithms as the AVX2 table, four lanes per vector; tails go through a small stack buffer.
#include <arm_neon.h>

#include <cstring>
#include <limits>

#include "core/cpu_features.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels::detail {
namespace {

constexpr int kPanel = 16;  // four vectors of columns
constexpr int kMr = 6;      // rows per microkernel: 24 accumulators

inline float32x4_t load_n(const float* p, int n) {
  if (n >= 4) return vld1q_f32(p);
  float buf[4] = {0, 0, 0, 0};
  if (n > 0) std::memcpy(buf, p, sizeof(float) * size_t(n));
  return vld1q_f32(buf);
}
inline void store_n(float* p, float32x4_t v, int n) {
  if (n >= 4) {
    vst1q_f32(p, v);
  } else if (n > 0) {
    float buf[4];
    vst1q_f32(buf, v);
    std::memcpy(p, buf, sizeof(float) * size_t(n));
  }
}

template <int MR>
void micro(const float* a, size_t lda, const float* b, int K, float* c, size_t ldc, int nv) {
  float32x4_t acc[MR][4];
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < 4; ++v) acc[r][v] = load_n(c + r * ldc + 4 * v, nv - 4 * v);
  for (int k = 0; k < K; ++k) {
    const float* bk = b + size_t(k) * kPanel;
    const float32x4_t b0 = vld1q_f32(bk), b1 = vld1q_f32(bk + 4), b2 = vld1q_f32(bk + 8),
                      b3 = vld1q_f32(bk + 12);
    for (int r = 0; r < MR; ++r) {
      const float32x4_t av = vdupq_n_f32(a[r * lda + k]);
      acc[r][0] = vfmaq_f32(acc[r][0], av, b0);
      acc[r][1] = vfmaq_f32(acc[r][1], av, b1);
      acc[r][2] = vfmaq_f32(acc[r][2], av, b2);
      acc[r][3] = vfmaq_f32(acc[r][3], av, b3);
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < 4; ++v) store_n(c + r * ldc + 4 * v, acc[r][v], nv - 4 * v);
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
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  for (; i < n; i += 4) s0 = vfmaq_f32(s0, load_n(a + i, n - i), load_n(b + i, n - i));
  return vaddvq_f32(vaddq_f32(s0, s1));
}

void gemv_rows(const float* w, size_t ldw, const float* x, int K, int rows, float* y) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * ldw;
    const float *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    for (int k = 0; k < K; k += 4) {
      const int n = K - k;
      const float32x4_t xv = load_n(x + k, n);
      s0 = vfmaq_f32(s0, load_n(w0 + k, n), xv);
      s1 = vfmaq_f32(s1, load_n(w1 + k, n), xv);
      s2 = vfmaq_f32(s2, load_n(w2 + k, n), xv);
      s3 = vfmaq_f32(s3, load_n(w3 + k, n), xv);
    }
    y[r] = vaddvq_f32(s0), y[r + 1] = vaddvq_f32(s1), y[r + 2] = vaddvq_f32(s2), y[r + 3] = vaddvq_f32(s3);
  }
  for (; r < rows; ++r) y[r] = dot(w + r * ldw, x, K);
}

void axpy(float alpha, const float* x, float* y, int n) {
  const float32x4_t av = vdupq_n_f32(alpha);
  for (int i = 0; i < n; i += 4)
    store_n(y + i, vfmaq_f32(load_n(y + i, n - i), av, load_n(x + i, n - i)), n - i);
}

void scale(float* x, int n, float s) {
  const float32x4_t sv = vdupq_n_f32(s);
  for (int i = 0; i < n; i += 4) store_n(x + i, vmulq_f32(load_n(x + i, n - i), sv), n - i);
}

float max(const float* x, int n) {
  float best = -std::numeric_limits<float>::infinity();
  float32x4_t bv = vdupq_n_f32(best);
  int i = 0;
  for (; i + 4 <= n; i += 4) bv = vmaxq_f32(bv, vld1q_f32(x + i));
  best = vmaxvq_f32(bv);
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  return best;
}

// Same algorithm as the AVX-512 exp: 2^n x e^r with n = round(x / ln 2), r by a two-part ln 2, a
// degree-6 polynomial for e^r, and 0 below the float range.
inline float32x4_t exp_ps(float32x4_t x) {
  const float32x4_t lo = vdupq_n_f32(-87.3f), hi = vdupq_n_f32(88.3f);
  const uint32x4_t underflow = vcltq_f32(x, lo);
  x = vminq_f32(vmaxq_f32(x, lo), hi);
  const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145751953125f));
  r = vfmsq_f32(r, n, vdupq_n_f32(1.428606765330187045e-06f));
  float32x4_t p = vdupq_n_f32(1.0f / 720);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 120), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 24), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f / 6), p, r);
  p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
  const int32x4_t bits = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  const float32x4_t result = vmulq_f32(p, vreinterpretq_f32_s32(bits));
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(result), underflow));
}

float exp_shift_sum(float* x, int n, float shift) {
  const float32x4_t sv = vdupq_n_f32(shift);
  float32x4_t sum = vdupq_n_f32(0);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t e = exp_ps(vsubq_f32(vld1q_f32(x + i), sv));
    vst1q_f32(x + i, e);
    sum = vaddq_f32(sum, e);
  }
  float total = vaddvq_f32(sum);
  if (i < n) {
    float buf[4];
    vst1q_f32(buf, exp_ps(vsubq_f32(load_n(x + i, n - i), sv)));
    for (int j = 0; j < n - i; ++j) {
      x[i + j] = buf[j];
      total += buf[j];
    }
  }
  return total;
}

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  for (size_t i = 0; i < n; i += 4) {
    const int len = int(n - i < 4 ? n - i : 4);
    const float32x4_t g = load_n(gate + i, len), u = load_n(up + i, len);
    const float32x4_t s = vdivq_f32(g, vaddq_f32(one, exp_ps(vnegq_f32(g))));
    store_n(out + i, vmulq_f32(s, u), len);
  }
}

void add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; i += 4) {
    const int len = int(n - i < 4 ? n - i : 4);
    store_n(out + i, vaddq_f32(load_n(a + i, len), load_n(b + i, len)), len);
  }
}

float sum_squares(const float* x, int n) {
  float32x4_t s = vdupq_n_f32(0);
  for (int i = 0; i < n; i += 4) {
    const float32x4_t v = load_n(x + i, n - i);
    s = vfmaq_f32(s, v, v);
  }
  return vaddvq_f32(s);
}

void scale_mul(const float* x, float s, const float* w, float* y, int n) {
  const float32x4_t sv = vdupq_n_f32(s);
  for (int i = 0; i < n; i += 4) {
    float32x4_t v = vmulq_f32(load_n(x + i, n - i), sv);
    if (w) v = vmulq_f32(v, load_n(w + i, n - i));
    store_n(y + i, v, n - i);
  }
}

const FloatIsa kIsa = {"neon",  kPanel,        gemm_packed, gemv_rows, dot,         axpy,      scale,
                       max,     exp_shift_sum, silu_mul,    add,       sum_squares, scale_mul, pack_b_from_nk,
                       nullptr, nullptr};

}  // namespace

const FloatIsa* float_isa_neon() { return cpu_features().neon ? &kIsa : nullptr; }

}  // namespace llmnpu::kernels::detail
