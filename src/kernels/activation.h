#pragma once
// Elementwise kernels of the float path. Outputs may alias inputs.
#include <cstddef>

namespace llmnpu::kernels {

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
void silu_mul(const float* gate, const float* up, float* out, size_t n);
// out[i] = gelu(gate[i]) * up[i] (erf form) and the tanh approximation; up null = no product.
void gelu_mul(const float* gate, const float* up, float* out, size_t n);
void gelu_tanh_mul(const float* gate, const float* up, float* out, size_t n);
// out[i] = cap * tanh(x[i] / cap).
void softcap(const float* x, float cap, float* out, size_t n);
// In place, numerically stable (subtracts the row max). n == 0 is a no-op.
void softmax(float* x, size_t n);
// out[i] = a[i] + b[i] (residual connections).
void add(const float* a, const float* b, float* out, size_t n);

void silu_mul_reference(const float* gate, const float* up, float* out, size_t n);
void softmax_reference(float* x, size_t n);

}  // namespace llmnpu::kernels
