#include "graph/model_graph.h"

#include "core/error.h"

namespace llmnpu {

static int total_out(const std::vector<std::unique_ptr<LinearOp>>& parts) {
  int n = 0;
  for (const auto& p : parts) n += p->out_features();
  return n;
}

ConcatLinear::ConcatLinear(std::vector<std::unique_ptr<LinearOp>> parts)
    : LinearOp(parts.empty() ? 0 : parts[0]->in_features(), total_out(parts)), parts_(std::move(parts)) {
  for (const auto& p : parts_)
    check(p->in_features() == in_features(), "fused linears disagree on input size");
}

void ConcatLinear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                           ThreadPool* pool) const {
  size_t offset = 0;
  for (const auto& p : parts_) {
    p->forward(x, T, ldx, y + offset, ldy, accumulate, pool);
    offset += size_t(p->out_features());
  }
}

std::string ConcatLinear::describe() const { return parts_.empty() ? "empty" : parts_[0]->describe(); }

size_t ConcatLinear::weight_bytes() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->weight_bytes();
  return n;
}

}  // namespace llmnpu
