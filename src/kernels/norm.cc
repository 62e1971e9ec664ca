#include "kernels/norm.h"

#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels {

void rmsnorm(const float* x, size_t ldx, int rows, int cols, const float* weight, float eps, float* y,
             size_t ldy, ThreadPool* pool) {
  check(rows >= 0 && cols >= 0, "rmsnorm: negative size rows=", rows, " cols=", cols);
  if (rows == 0 || cols == 0) return;
  const detail::FloatIsa& isa = detail::float_isa();
  auto run = [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const float* in = x + r * ldx;
      float mean_square = isa.sum_squares(in, cols) / float(cols);
      isa.scale_mul(in, 1.0f / std::sqrt(mean_square + eps), weight, y + r * ldy, cols);
    }
  };
  if (!pool || rows < 8) return run(0, size_t(rows));
  pool->parallel_for(size_t(rows), [&](int, size_t r0, size_t r1) { run(r0, r1); });
}

void layernorm(const float* x, size_t ldx, int rows, int cols, const float* weight, const float* bias,
               float eps, float* y, size_t ldy) {
  for (int r = 0; r < rows; ++r) {
    const float* in = x + size_t(r) * ldx;
    double sum = 0, ss = 0;
    for (int c = 0; c < cols; ++c) sum += in[c];
    const double mean = sum / cols;
    for (int c = 0; c < cols; ++c) ss += (in[c] - mean) * (in[c] - mean);
    const double inv = 1.0 / std::sqrt(ss / cols + eps);
    float* out = y + size_t(r) * ldy;
    for (int c = 0; c < cols; ++c)
      out[c] = float((in[c] - mean) * inv * (weight ? weight[c] : 1.0) + (bias ? bias[c] : 0.0));
  }
}

void rmsnorm_reference(const float* x, size_t ldx, int rows, int cols, const float* weight, float eps,
                       float* y, size_t ldy) {
  for (int r = 0; r < rows; ++r) {
    const float* in = x + size_t(r) * ldx;
    double ss = 0;
    for (int c = 0; c < cols; ++c) ss += double(in[c]) * in[c];
    double inv = 1.0 / std::sqrt(ss / cols + eps);
    for (int c = 0; c < cols; ++c) y[size_t(r) * ldy + c] = float(in[c] * inv * (weight ? weight[c] : 1.0));
  }
}

}  // namespace llmnpu::kernels
