#pragma once
// A linear layer as the graph sees it: y (+)= x · W^T (+ bias), whatever the weights' format.
// The float reference path uses FloatLinear; prepared W8A8 models use the int8 linear of the
// accelerator role (static per-tensor activation scale, shadow outliers). Static subgraphs are built
// from these, so a backend decides how a linear runs without the model code knowing.
#include <cstddef>
#include <string>

#include "graph/shadow_sink.h"

namespace llmnpu {

class ThreadPool;

class LinearOp {
 public:
  LinearOp(int in_features, int out_features) : in_(in_features), out_(out_features) {}
  virtual ~LinearOp() = default;

  int in_features() const { return in_; }
  int out_features() const { return out_; }

  // x: [T][ldx] (in_features used); y: [T][ldy] (out_features used). accumulate adds into y
  // (how residual connections are fused).
  virtual void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                       ThreadPool* pool) const = 0;

  // The down projection of a gated MLP: y (+)= (silu(gate) * up) · W^T, with gate_up [T][ld] holding gate
  // in columns [0, in_features) and up in [in_features, 2 in_features). This default writes
  // silu(gate) * up over the gate half and calls forward() on it; a linear that quantizes its input may
  // fold the activation into its quantizer instead (then gate_up is left as it was).
  virtual void forward_swiglu(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                              ThreadPool* pool) const;

  // The same with the linear's shadow work (the float part of an int8 linear) placed by `where`: posted
  // to where.sink to run beside the int8 GEMM, merged before returning; bit-identical to the inline
  // placement. Linears without shadow work ignore the placement.
  virtual void forward_placed(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                              ThreadPool* pool, const ShadowPlacement& where) const {
    (void)where;
    forward(x, T, ldx, y, ldy, accumulate, pool);
  }
  virtual void forward_swiglu_placed(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                                     ThreadPool* pool, const ShadowPlacement& where) const {
    (void)where;
    forward_swiglu(gate_up, T, ld, y, ldy, accumulate, pool);
  }
  // Whether prefill calls have shadow work (an int8 linear whose shadow path was kept).
  virtual bool has_shadow() const { return false; }

  // "fp32", "w8a8", ...: shown in traces and inspect output.
  virtual std::string describe() const = 0;
  // Bytes of weights this op keeps resident.
  virtual size_t weight_bytes() const = 0;

 private:
  int in_, out_;
};

}  // namespace llmnpu
