#include "graph/linear.h"

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/activation.h"

namespace llmnpu {

void LinearOp::forward_swiglu(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                              ThreadPool* pool) const {
  const size_t n = size_t(in_features());
  check(ld >= 2 * n, "forward_swiglu: row stride ", ld, " is smaller than gate + up (", 2 * n, ")");
  auto rows = [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      float* gu = gate_up + t * ld;
      kernels::silu_mul(gu, gu + n, gu, n);
    }
  };
  if (pool && T > 1)
    pool->parallel_for(size_t(T), [&](int, size_t t0, size_t t1) { rows(t0, t1); });
  else
    rows(0, size_t(T));
  forward(gate_up, T, ld, y, ldy, accumulate, pool);
}

}  // namespace llmnpu
