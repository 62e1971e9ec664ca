#pragma once
// RMSNorm: y = x / sqrt(mean(x^2) + eps) * weight, per row. y may equal x (in place).
#include <cstddef>

namespace llmnpu {
class ThreadPool;
}

namespace llmnpu::kernels {

// x, y: [rows][ld] with `cols` floats used per row; weight: [cols] (null = all ones).
void rmsnorm(const float* x, size_t ldx, int rows, int cols, const float* weight, float eps, float* y,
             size_t ldy, ThreadPool* pool = nullptr);

// LayerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias (weight, bias may be null).
void layernorm(const float* x, size_t ldx, int rows, int cols, const float* weight, const float* bias,
               float eps, float* y, size_t ldy);
void rmsnorm_reference(const float* x, size_t ldx, int rows, int cols, const float* weight, float eps,
                       float* y, size_t ldy);

}  // namespace llmnpu::kernels
