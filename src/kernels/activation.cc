#include "kernels/activation.h"

#include <cmath>

#include "kernels/float_isa.h"

namespace llmnpu::kernels {

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  detail::float_isa().silu_mul(gate, up, out, n);
}

// Plain loops: these serve architectures whose MLP is not SwiGLU (not yet on a measured hot path).
void gelu_mul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = 0.5f * g * (1.0f + std::erf(g * 0.70710678118654752f)) * (up ? up[i] : 1.0f);
  }
}

void gelu_tanh_mul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    const float inner = 0.79788456080286536f * (g + 0.044715f * g * g * g);
    out[i] = 0.5f * g * (1.0f + std::tanh(inner)) * (up ? up[i] : 1.0f);
  }
}

void softcap(const float* x, float cap, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = cap * std::tanh(x[i] / cap);
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
