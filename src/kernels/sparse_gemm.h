#pragma once
// Shadow outlier execution: Y[m][n] += v * W[n][k] for every outlier {m, k, v}.
// Cost is count * N; each entry touches one output row, so the work is parallel over N.
#include <cstddef>

#include "kernels/outlier.h"

namespace llmnpu {
class ThreadPool;
}

namespace llmnpu::kernels {

// channel_rows[i] is a contiguous row of N floats equal to W[:, list[i].channel] (a row of W^T, e.g.
// from a cache of hot channels). y is [M][ldy] with M > every list[i].row.
void sparse_outlier_gemm(const OutlierEntry* list, size_t count, const float* const* channel_rows, int N,
                         float* y, size_t ldy, ThreadPool* pool = nullptr);

// W^T stored [K][ldwt] row-major (row k = W[:, k], N floats used).
void sparse_outlier_gemm_transposed(const OutlierEntry* list, size_t count, const float* wt, size_t ldwt,
                                    int N, float* y, size_t ldy, ThreadPool* pool = nullptr);

// W stored [N][ldw] row-major (PyTorch layout): the column W[:, k] is strided.
void sparse_outlier_gemm_strided(const OutlierEntry* list, size_t count, const float* w, size_t ldw, int N,
                                 float* y, size_t ldy, ThreadPool* pool = nullptr);

// Plain loops, for tests.
void sparse_outlier_gemm_reference(const OutlierEntry* list, size_t count, const float* w, size_t ldw, int N,
                                   float* y, size_t ldy);

}  // namespace llmnpu::kernels
