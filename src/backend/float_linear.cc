#include "backend/float_linear.h"

#include "kernels/float_gemm.h"

namespace llmnpu {

void FloatLinear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                          ThreadPool* pool) const {
  kernels::float_gemm(x, T, ldx, weight_, out_features(), in_features(), y, ldy, bias_, accumulate, pool);
}

}  // namespace llmnpu
