// fp32 GEMM driver: blocks over N (per thread), K (packed W tile fits L2) and M, and hands packed tiles
// to the ISA microkernels. W is packed on the fly: tile [nc][kc] of W[N][K] becomes panels [kc][panel].
#include "kernels/float_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels {
namespace {

constexpr int kKc = 256;  // K block: one packed panel (kKc x 32 floats = 32 KiB) stays in L1
constexpr int kNc = 256;  // N block per pack: packed tile kKc x kNc = 256 KiB, in L2 next to the Y block
constexpr int kMc = 252;  // M block (18 microkernel rows of 14): X block kMc x kKc = 252 KiB, in L2

// Y[rows][n0..n1) = bias or 0, or += bias when accumulating.
void init_output(float* y, size_t ldy, int M, int n0, int n1, const float* bias, bool accumulate) {
  for (int m = 0; m < M; ++m) {
    float* row = y + size_t(m) * ldy;
    if (!accumulate) {
      if (bias)
        std::memcpy(row + n0, bias + n0, sizeof(float) * size_t(n1 - n0));
      else
        std::fill(row + n0, row + n1, 0.0f);
    } else if (bias) {
      for (int n = n0; n < n1; ++n) row[n] += bias[n];
    }
  }
}

// Y[m0, m1)[n0, n1) (+)= X·W^T (+ bias). The first K block initializes Y inside the microkernel (no separate
// pass over Y that would push it out of cache before use).
void gemm_block(const detail::FloatIsa& isa, const float* x, int m0, int m1, size_t ldx, const float* w,
                int n0, int n1, int K, float* y, size_t ldy, const float* bias, bool accumulate,
                std::vector<float>& packed) {
  if (K == 0 || !isa.gemm_packed_init)
    init_output(y + size_t(m0) * ldy, ldy, m1 - m0, n0, n1, bias, accumulate);
  if (K == 0) return;
  packed.resize(detail::packed_size(kNc, kKc, isa.panel));
  for (int nb = n0; nb < n1; nb += kNc) {
    int nc = std::min(kNc, n1 - nb);
    for (int kb = 0; kb < K; kb += kKc) {
      int kc = std::min(kKc, K - kb);
      isa.pack_b_nk(w, size_t(K), nb, nc, kb, kc, isa.panel, packed.data());
      for (int mb = m0; mb < m1; mb += kMc) {
        int mc = std::min(kMc, m1 - mb);
        const float* xb = x + size_t(mb) * ldx + kb;
        float* yb = y + size_t(mb) * ldy + nb;
        if (kb == 0 && isa.gemm_packed_init)
          isa.gemm_packed_init(xb, ldx, packed.data(), mc, nc, kc, yb, ldy, bias ? bias + nb : nullptr,
                               accumulate);
        else
          isa.gemm_packed(xb, ldx, packed.data(), mc, nc, kc, yb, ldy);
      }
    }
  }
}

}  // namespace

void float_gemm(const float* x, int M, size_t ldx, const float* w, int N, int K, float* y, size_t ldy,
                const float* bias, bool accumulate, ThreadPool* pool) {
  check(M >= 0 && N >= 0 && K >= 0, "float_gemm: negative size M=", M, " N=", N, " K=", K);
  if (M == 0 || N == 0) return;
  if (M == 1) return float_gemv(x, w, N, K, y, bias, accumulate, pool);
  const detail::FloatIsa& isa = detail::float_isa();
  int threads = pool ? pool->size() : 1;
  int panels = (N + isa.panel - 1) / isa.panel;
  auto run = [&](int m0, int m1, int p0, int p1) {
    thread_local std::vector<float> packed;
    int n0 = p0 * isa.panel, n1 = std::min(N, p1 * isa.panel);
    gemm_block(isa, x, m0, m1, ldx, w, n0, n1, K, y, ldy, bias, accumulate, packed);
  };
  if (threads == 1) return run(0, M, 0, panels);
  if (panels >= 2 * threads || M < 16) {
    // Split N: every thread packs only its own columns of W.
    pool->parallel_for(size_t(panels), [&](int, size_t p0, size_t p1) { run(0, M, int(p0), int(p1)); });
  } else {
    // Few columns: split M into blocks of 8 rows.
    int mblocks = (M + 7) / 8;
    pool->parallel_for(size_t(mblocks), [&](int, size_t b0, size_t b1) {
      run(int(b0) * 8, std::min(M, int(b1) * 8), 0, panels);
    });
  }
}

void float_gemv(const float* x, const float* w, int N, int K, float* y, const float* bias, bool accumulate,
                ThreadPool* pool) {
  check(N >= 0 && K >= 0, "float_gemv: negative size N=", N, " K=", K);
  if (N == 0) return;
  const detail::FloatIsa& isa = detail::float_isa();
  auto run = [&](size_t n0, size_t n1) {
    constexpr size_t kRows = 64;
    float tmp[kRows];
    for (size_t nb = n0; nb < n1; nb += kRows) {
      int rows = int(std::min(kRows, n1 - nb));
      isa.gemv_rows(w + nb * size_t(K), size_t(K), x, K, rows, tmp);
      for (int r = 0; r < rows; ++r) {
        float v = tmp[r] + (bias ? bias[nb + r] : 0.0f);
        y[nb + r] = accumulate ? y[nb + r] + v : v;
      }
    }
  };
  // Splitting pays once each thread streams at least ~64 KiB of weights.
  if (!pool || pool->size() == 1 || size_t(N) * size_t(K) < 64 * 1024) return run(0, size_t(N));
  size_t blocks = (size_t(N) + 15) / 16;
  pool->parallel_for(blocks, [&](int, size_t b0, size_t b1) { run(b0 * 16, std::min(size_t(N), b1 * 16)); });
}

void float_gemm_reference(const float* x, int M, size_t ldx, const float* w, int N, int K, float* y,
                          size_t ldy, const float* bias, bool accumulate) {
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double s = bias ? bias[n] : 0.0;
      for (int k = 0; k < K; ++k) s += double(x[size_t(m) * ldx + k]) * double(w[size_t(n) * K + k]);
      float& out = y[size_t(m) * ldy + n];
      out = accumulate ? float(double(out) + s) : float(s);
    }
}

}  // namespace llmnpu::kernels
