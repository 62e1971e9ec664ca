#pragma once
// A linear layer as the graph sees it: y (+)= x · W^T (+ bias), whatever the weights' format.
// The float reference path uses FloatLinear; prepared W8A8 models use the int8 linear of the
// accelerator role (static per-tensor activation scale, shadow outliers). Static subgraphs are built
// from these, so a backend decides how a linear runs without the model code knowing.
#include <cstddef>
#include <string>

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

  // "fp32", "w8a8", ...: shown in traces and inspect output.
  virtual std::string describe() const = 0;
  // Bytes of weights this op keeps resident.
  virtual size_t weight_bytes() const = 0;

 private:
  int in_, out_;
};

}  // namespace llmnpu
