#pragma once
// fp32 linear layer: Y[M][N] (+)= X[M][K] · W^T (+ bias), W stored [N][K] row-major (PyTorch layout).
// Row strides are in floats. Pointers need no particular alignment.
#include <cstddef>

namespace llmnpu {
class ThreadPool;
}

namespace llmnpu::kernels {

// bias: null or [N]. accumulate: Y += X·W^T (+bias) instead of Y = ... . pool: null = calling thread.
// M == 1 goes to float_gemv. M, N or K == 0 is allowed (K == 0 gives Y = bias or 0, or leaves Y if
// accumulating without bias).
void float_gemm(const float* x, int M, size_t ldx, const float* w, int N, int K, float* y, size_t ldy,
                const float* bias, bool accumulate, ThreadPool* pool = nullptr);

// M == 1 (decode): y[N] (+)= W[N][K] · x[K] (+ bias). Memory-bound; parallel over N.
void float_gemv(const float* x, const float* w, int N, int K, float* y, const float* bias, bool accumulate,
                ThreadPool* pool = nullptr);

// Plain loops (double accumulation), for tests.
void float_gemm_reference(const float* x, int M, size_t ldx, const float* w, int N, int K, float* y,
                          size_t ldy, const float* bias, bool accumulate);

}  // namespace llmnpu::kernels
