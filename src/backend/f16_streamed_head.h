#pragma once
// The output head and embedding of an in-memory prepared graph that prepare measures on held-out text:
// the values a prepared file stores (the source's rows rounded to F16), read from the source a block of
// rows at a time instead of held as an F16 table and an int8 copy (on qwen2.5-0.5b shapes, 408 MB less at
// prepare's peak). Every position's logits run fp32 GEMMs, as the file's head does beyond its int8 rows.
#include "graph/linear.h"
#include "graph/model_graph.h"
#include "model/model.h"

namespace llmnpu {

class F16StreamedHead final : public LinearOp {
 public:
  F16StreamedHead(const MatrixRef& weight, const float* bias)
      : LinearOp(weight.cols, weight.rows), matrix_(weight), bias_(bias) {}

  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  std::string describe() const override { return "fp32 on F16-rounded weights (streamed from the source)"; }
  size_t weight_bytes() const override { return size_t(in_features()) * size_t(out_features()) * 2; }

 private:
  MatrixRef matrix_;
  const float* bias_;
};

// Embedding rows rounded to F16, read from the source one row at a time.
EmbeddingRows f16_streamed_embedding(const MatrixRef& table);

}  // namespace llmnpu
