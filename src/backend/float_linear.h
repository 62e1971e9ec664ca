#pragma once
// The host role's linear layer: fp32 weights [out][in] used in place (not copied), or streamed from the
// file's encoding a block of rows at a time (MatrixRef), with an optional bias.
#include <functional>

#include "graph/linear.h"
#include "model/model.h"

namespace llmnpu {

// Y (+)= X · W^T (+ bias) with W read in blocks of rows (MatrixRef::read_rows) into per-thread scratch,
// each block's GEMM on the thread that read it; `transform` (may be empty) rewrites each block of rows
// after reading (rows, count). Fp32 weights without a transform are used in place instead.
void forward_in_row_blocks(const MatrixRef& w, const std::function<void(float*, int)>& transform,
                           const float* x, int T, size_t ldx, float* y, size_t ldy, const float* bias,
                           bool accumulate, ThreadPool* pool);

class FloatLinear final : public LinearOp {
 public:
  FloatLinear(const float* weight, const float* bias, int in_features, int out_features)
      : FloatLinear(MatrixRef{weight, nullptr, out_features, in_features}, bias) {}
  FloatLinear(const MatrixRef& weight, const float* bias)
      : LinearOp(weight.cols, weight.rows), bias_(bias), matrix_(weight) {}

  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  std::string describe() const override { return matrix_.f32 ? "fp32" : "fp32 (weights streamed)"; }
  size_t weight_bytes() const override { return size_t(in_features()) * size_t(out_features()) * 4; }

  const float* weight() const { return matrix_.f32; }  // null when streamed
  const float* bias() const { return bias_; }

 private:
  const float* bias_;
  MatrixRef matrix_;
};

}  // namespace llmnpu
