#include "kernels/activation.h"

#include <cmath>

#include "kernels/float_isa.h"

namespace llmnpu::kernels {

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  detail::float_isa().silu_mul(gate, up, out, n);
}

void softmax(float* x, size_t n) {
  if (n == 0) return;
  const detail::FloatIsa& isa = detail::float_isa();
  int count = int(n);
  float sum = isa.exp_shift_sum(x, count, isa.max(x, count));
  isa.scale(x, count, 1.0f / sum);
}

void add(const float* a, const float* b, float* out, size_t n) { detail::float_isa().add(a, b, out, n); }

void silu_mul_reference(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = float(double(gate[i]) / (1.0 + std::exp(-double(gate[i]))) * up[i]);
}

void softmax_reference(float* x, size_t n) {
  if (n == 0) return;
  double mx = x[0], sum = 0;
  for (size_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  for (size_t i = 0; i < n; ++i) sum += std::exp(double(x[i]) - mx);
  for (size_t i = 0; i < n; ++i) x[i] = float(std::exp(double(x[i]) - mx) / sum);
}

}  // namespace llmnpu::kernels
