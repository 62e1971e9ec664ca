#include "backend/float_linear.h"

#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/float_gemm.h"

namespace llmnpu {

namespace {
// Rows per streamed block: big enough for the GEMM's column tiles, small enough that a thread's scratch
// stays a few MB on 7B-class shapes (128 x 11008 floats = 5.6 MB).
constexpr int kBlockRows = 128;
}  // namespace

void forward_in_row_blocks(const MatrixRef& w, const std::function<void(float*, int)>& transform,
                           const float* x, int T, size_t ldx, float* y, size_t ldy, const float* bias,
                           bool accumulate, ThreadPool* pool) {
  if (w.f32 && !transform) {
    kernels::float_gemm(x, T, ldx, w.f32, w.rows, w.cols, y, ldy, bias, accumulate, pool);
    return;
  }
  const int blocks = (w.rows + kBlockRows - 1) / kBlockRows;
  auto run = [&](size_t b0, size_t b1) {
    thread_local std::vector<float> scratch;
    scratch.resize(size_t(kBlockRows) * size_t(w.cols));
    for (size_t b = b0; b < b1; ++b) {
      const int n0 = int(b) * kBlockRows, n = std::min(kBlockRows, w.rows - n0);
      w.read_rows(n0, n, scratch.data());
      if (transform) transform(scratch.data(), n);
      kernels::float_gemm(x, T, ldx, scratch.data(), n, w.cols, y + n0, ldy, bias ? bias + n0 : nullptr,
                          accumulate, nullptr);
    }
  };
  if (pool && pool->size() > 1 && blocks > 1)
    pool->parallel_for(size_t(blocks), [&](int, size_t b0, size_t b1) { run(b0, b1); });
  else
    run(0, size_t(blocks));
}

void FloatLinear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                          ThreadPool* pool) const {
  forward_in_row_blocks(matrix_, nullptr, x, T, ldx, y, ldy, bias_, accumulate, pool);
}

}  // namespace llmnpu
