#pragma once
// Reference baseline for accuracy comparisons: per-block dynamic int8 as llama.cpp's Q8_0 does it.
// Weights and activations are both quantized in blocks of 32 along K, one scale (max|v| / 127) per
// block, and dequantized again; the product is computed in fp32 on the host. Not an accelerator path
// (per-block scales are what static NPU graphs cannot do); it shows what finer-grained int8 would give.
#include <vector>

#include "graph/linear.h"
#include "graph/model_graph.h"
#include "model/model.h"

namespace llmnpu {

constexpr int kQ8BlockSize = 32;

// Quantize-dequantize n values in place, blocks of kQ8BlockSize (the last may be shorter).
void q8_block_roundtrip(float* v, size_t n);

class Q8BlockLinear final : public LinearOp {
 public:
  // The weights are read and rounded through the blocks at each call (no copy is kept).
  Q8BlockLinear(const MatrixRef& weight, const float* bias);
  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  std::string describe() const override { return "q8 blocks of 32 (fp32 host, reference)"; }
  size_t weight_bytes() const override;  // as Q8_0 would store them: 34 bytes per 32 weights

 private:
  MatrixRef weight_;
  const float* bias_;
};

// The float model's graph with every layer linear as Q8BlockLinear (head stays fp32).
ModelGraph build_q8_block_graph(const Model& model);

}  // namespace llmnpu
