// Shadow outlier GEMM: each outlier adds a scaled weight column to one output row. Threads split the
// N columns, so no two threads write the same output element and the result does not depend on the
// thread count.
#include "kernels/sparse_gemm.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels {
namespace {

template <typename ColumnFn>
void run_columns(const OutlierEntry* list, size_t count, int N, float* y, size_t ldy, ThreadPool* pool,
                 const ColumnFn& accumulate_column) {
  check(N >= 0, "sparse_outlier_gemm: negative N=", N);
  if (count == 0 || N == 0) return;
  auto run = [&](size_t n0, size_t n1) {
    for (size_t i = 0; i < count; ++i)
      accumulate_column(list[i], int(n0), int(n1), y + size_t(list[i].row) * ldy);
  };
  // Splitting pays only when there is real work per thread.
  constexpr size_t kBlock = 64;
  if (!pool || pool->size() == 1 || count * size_t(N) < 32 * 1024) return run(0, size_t(N));
  size_t blocks = (size_t(N) + kBlock - 1) / kBlock;
  pool->parallel_for(blocks,
                     [&](int, size_t b0, size_t b1) { run(b0 * kBlock, std::min(size_t(N), b1 * kBlock)); });
}

}  // namespace

void sparse_outlier_gemm(const OutlierEntry* list, size_t count, const float* const* channel_rows, int N,
                         float* y, size_t ldy, ThreadPool* pool) {
  const detail::FloatIsa& isa = detail::float_isa();
  run_columns(list, count, N, y, ldy, pool, [&](const OutlierEntry& e, int n0, int n1, float* yrow) {
    const float* column = channel_rows[&e - list];
    isa.axpy(e.value, column + n0, yrow + n0, n1 - n0);
  });
}

void sparse_outlier_gemm_transposed(const OutlierEntry* list, size_t count, const float* wt, size_t ldwt,
                                    int N, float* y, size_t ldy, ThreadPool* pool) {
  const detail::FloatIsa& isa = detail::float_isa();
  run_columns(list, count, N, y, ldy, pool, [&](const OutlierEntry& e, int n0, int n1, float* yrow) {
    isa.axpy(e.value, wt + size_t(e.channel) * ldwt + n0, yrow + n0, n1 - n0);
  });
}

void sparse_outlier_gemm_strided(const OutlierEntry* list, size_t count, const float* w, size_t ldw, int N,
                                 float* y, size_t ldy, ThreadPool* pool) {
  check(N >= 0, "sparse_outlier_gemm: negative N=", N);
  if (count == 0 || N == 0) return;
  // Entries of one row are consecutive: each output element is read and written once per row group,
  // and the group's channels of W row n are gathered together.
  auto run = [&](size_t n0, size_t n1) {
    for (size_t g = 0; g < count;) {
      size_t end = g + 1;
      while (end < count && list[end].row == list[g].row) ++end;
      float* yrow = y + size_t(list[g].row) * ldy;
      for (size_t n = n0; n < n1; ++n) {
        const float* wrow = w + n * ldw;
        float s = 0;
        for (size_t i = g; i < end; ++i) s += list[i].value * wrow[list[i].channel];
        yrow[n] += s;
      }
      g = end;
    }
  };
  constexpr size_t kBlock = 64;
  if (!pool || pool->size() == 1 || count * size_t(N) < 32 * 1024) return run(0, size_t(N));
  size_t blocks = (size_t(N) + kBlock - 1) / kBlock;
  pool->parallel_for(blocks,
                     [&](int, size_t b0, size_t b1) { run(b0 * kBlock, std::min(size_t(N), b1 * kBlock)); });
}

void sparse_outlier_gemm_reference(const OutlierEntry* list, size_t count, const float* w, size_t ldw, int N,
                                   float* y, size_t ldy) {
  for (size_t i = 0; i < count; ++i)
    for (int n = 0; n < N; ++n)
      y[size_t(list[i].row) * ldy + n] += list[i].value * w[size_t(n) * ldw + size_t(list[i].channel)];
}

}  // namespace llmnpu::kernels
