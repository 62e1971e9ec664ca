#pragma once
// A LinearOp that records statistics of its input, then runs the wrapped op: how calibration sees
// every linear input of the float reference without the engine knowing.
#include <memory>

#include "graph/linear.h"
#include "quant/activation_stats.h"

namespace llmnpu::quant {

enum class RecordPass { Statistics, Outliers };

class RecordingLinear final : public LinearOp {
 public:
  RecordingLinear(std::unique_ptr<LinearOp> inner, ActivationStats* stats, const RecordPass* pass)
      : LinearOp(inner->in_features(), inner->out_features()),
        inner_(std::move(inner)),
        stats_(stats),
        pass_(pass) {}

  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override {
    if (*pass_ == RecordPass::Statistics)
      stats_->record(x, T, ldx);
    else
      stats_->record_outliers(x, T, ldx);
    inner_->forward(x, T, ldx, y, ldy, accumulate, pool);
  }
  std::string describe() const override { return inner_->describe() + " (recording)"; }
  size_t weight_bytes() const override { return inner_->weight_bytes(); }

  std::unique_ptr<LinearOp> release() { return std::move(inner_); }

 private:
  std::unique_ptr<LinearOp> inner_;
  ActivationStats* stats_;
  const RecordPass* pass_;
};

}  // namespace llmnpu::quant
