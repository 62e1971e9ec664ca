#include "backend/f16_streamed_head.h"

#include <algorithm>
#include <vector>

#include "core/half_rows.h"
#include "core/thread_pool.h"
#include "kernels/float_gemm.h"

namespace llmnpu {

void F16StreamedHead::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                              ThreadPool* pool) const {
  constexpr int kRows = 64;  // as the file's head converts its F16 rows: 64 x K floats stay in L2
  const int K = in_features(), N = out_features();
  const size_t blocks = size_t((N + kRows - 1) / kRows);
  auto run = [&](size_t b0, size_t b1) {
    thread_local std::vector<uint16_t> halves;
    thread_local std::vector<float> rows;
    halves.resize(size_t(kRows) * size_t(K));
    rows.resize(size_t(kRows) * size_t(K));
    for (size_t b = b0; b < b1; ++b) {
      const int n0 = int(b) * kRows, n = std::min(N, n0 + kRows) - n0;
      matrix_.read_rows_f16(n0, n, halves.data());
      halves_to_floats(halves.data(), rows.data(), size_t(n) * size_t(K));
      kernels::float_gemm(x, T, ldx, rows.data(), n, K, y + n0, ldy, bias_ ? bias_ + n0 : nullptr, accumulate,
                          nullptr);
    }
  };
  if (pool && pool->size() > 1 && blocks > 1)
    pool->parallel_for(blocks, [&](int, size_t b0, size_t b1) { run(b0, b1); });
  else
    run(0, blocks);
}

EmbeddingRows f16_streamed_embedding(const MatrixRef& table) {
  return {[table](int32_t id, float* out) {
            thread_local std::vector<uint16_t> row;
            row.resize(size_t(table.cols));
            table.read_rows_f16(id, 1, row.data());
            halves_to_floats(row.data(), out, row.size());
          },
          table.rows};
}

}  // namespace llmnpu
