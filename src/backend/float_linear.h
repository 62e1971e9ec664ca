#pragma once
// The host role's linear layer: fp32 weights [out][in] (used in place, not copied) and optional bias.
#include "graph/linear.h"

namespace llmnpu {

class FloatLinear final : public LinearOp {
 public:
  FloatLinear(const float* weight, const float* bias, int in_features, int out_features)
      : LinearOp(in_features, out_features), weight_(weight), bias_(bias) {}

  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  std::string describe() const override { return "fp32"; }
  size_t weight_bytes() const override { return size_t(in_features()) * size_t(out_features()) * 4; }

  const float* weight() const { return weight_; }
  const float* bias() const { return bias_; }

 private:
  const float* weight_;
  const float* bias_;
};

}  // namespace llmnpu
