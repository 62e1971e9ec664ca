// Scalar inner loops (the fallback and the portable baseline), run-time choice of the table, packing.
#include "kernels/float_isa.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace llmnpu::kernels::detail {
namespace {

constexpr int kScalarPanel = 16;

void gemm_packed(const float* a, size_t lda, const float* b, int M, int N, int K, float* c, size_t ldc) {
  for (int n0 = 0; n0 < N; n0 += kScalarPanel) {
    const float* panel = b + size_t(n0 / kScalarPanel) * kScalarPanel * size_t(K);
    int nv = std::min(kScalarPanel, N - n0);
    for (int m = 0; m < M; ++m) {
      float acc[kScalarPanel];
      for (int j = 0; j < kScalarPanel; ++j) acc[j] = j < nv ? c[m * ldc + n0 + j] : 0.0f;
      for (int k = 0; k < K; ++k) {
        float av = a[m * lda + k];
        for (int j = 0; j < kScalarPanel; ++j) acc[j] += av * panel[size_t(k) * kScalarPanel + j];
      }
      for (int j = 0; j < nv; ++j) c[m * ldc + n0 + j] = acc[j];
    }
  }
}

float dot(const float* a, const float* b, int n) {
  float s[4] = {0, 0, 0, 0};  // four partial sums: shorter dependency chains, better rounding
  int i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) s[j] += a[i + j] * b[i + j];
  for (; i < n; ++i) s[0] += a[i] * b[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

void gemv_rows(const float* w, size_t ldw, const float* x, int K, int rows, float* y) {
  for (int r = 0; r < rows; ++r) y[r] = dot(w + r * ldw, x, K);
}

void axpy(float alpha, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void scale(float* x, int n, float s) {
  for (int i = 0; i < n; ++i) x[i] *= s;
}

float max(const float* x, int n) {
  float best = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) best = x[i] > best ? x[i] : best;
  return best;
}

float exp_shift_sum(float* x, int n, float shift) {
  float sum = 0;
  for (int i = 0; i < n; ++i) sum += x[i] = std::exp(x[i] - shift);
  return sum;
}

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add(const float* a, const float* b, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

float sum_squares(const float* x, int n) { return dot(x, x, n); }

void scale_mul(const float* x, float s, const float* w, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] = x[i] * s * (w ? w[i] : 1.0f);
}

const FloatIsa kScalar = {
    "scalar",      kScalarPanel, gemm_packed, gemv_rows,   dot,       axpy,           scale,   max,
    exp_shift_sum, silu_mul,     add,         sum_squares, scale_mul, pack_b_from_nk, nullptr, nullptr};

const FloatIsa* forced = nullptr;

const FloatIsa& best() {
  static const FloatIsa* isa = [] {
#if defined(__x86_64__)
    if (const FloatIsa* p = float_isa_avx512()) return p;
    if (const FloatIsa* p = float_isa_avx2()) return p;
#elif defined(__aarch64__)
    if (const FloatIsa* p = float_isa_neon()) return p;
#endif
    return &kScalar;
  }();
  return *isa;
}

}  // namespace

const FloatIsa& float_isa() { return forced ? *forced : best(); }
const FloatIsa& float_isa_scalar() { return kScalar; }

std::vector<const FloatIsa*> float_isas_available() {
  std::vector<const FloatIsa*> out{&kScalar};
#if defined(__x86_64__)
  if (const FloatIsa* p = float_isa_avx2()) out.push_back(p);
  if (const FloatIsa* p = float_isa_avx512()) out.push_back(p);
#elif defined(__aarch64__)
  if (const FloatIsa* p = float_isa_neon()) out.push_back(p);
#endif
  return out;
}
void force_float_isa(const FloatIsa* isa) { forced = isa; }

void pack_b_from_nk(const float* w, size_t ldw, int n0, int n, int k0, int k, int panel, float* out) {
  for (int p = 0; p < n; p += panel) {
    int width = std::min(panel, n - p);
    float* dst = out + size_t(p / panel) * size_t(panel) * size_t(k);
    // Four source rows at a time: each row is read sequentially along k.
    int j = 0;
    for (; j + 4 <= width; j += 4) {
      const float* s0 = w + size_t(n0 + p + j) * ldw + k0;
      const float *s1 = s0 + ldw, *s2 = s1 + ldw, *s3 = s2 + ldw;
      for (int kk = 0; kk < k; ++kk) {
        float* d = dst + size_t(kk) * panel + j;
        d[0] = s0[kk], d[1] = s1[kk], d[2] = s2[kk], d[3] = s3[kk];
      }
    }
    for (; j < width; ++j) {
      const float* s = w + size_t(n0 + p + j) * ldw + k0;
      for (int kk = 0; kk < k; ++kk) dst[size_t(kk) * panel + j] = s[kk];
    }
    if (width < panel)
      for (int kk = 0; kk < k; ++kk) std::fill_n(dst + size_t(kk) * panel + width, panel - width, 0.0f);
  }
}

void pack_b_from_kn(const float* b, size_t ldb, int n0, int n, int k0, int k, int panel, float* out) {
  for (int p = 0; p < n; p += panel) {
    int width = std::min(panel, n - p);
    float* dst = out + size_t(p / panel) * size_t(panel) * size_t(k);
    for (int kk = 0; kk < k; ++kk) {
      const float* src = b + size_t(k0 + kk) * ldb + n0 + p;
      float* d = dst + size_t(kk) * panel;
      std::memcpy(d, src, sizeof(float) * size_t(width));
      if (width < panel) std::fill_n(d + width, panel - width, 0.0f);
    }
  }
}

}  // namespace llmnpu::kernels::detail
