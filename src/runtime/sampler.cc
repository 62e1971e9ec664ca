#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace llmnpu {

int32_t argmax(const float* logits, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

Sampler::Sampler(SamplerParams params) : params_(params), rng_(params.seed) {
  check(std::isfinite(params.temperature), "temperature must be a finite number");
  check(params.top_p > 0, "top-p must be positive");
}

int32_t Sampler::sample(const float* logits, int n) {
  check(n > 0, "cannot sample from an empty vocabulary");
  if (params_.temperature <= 0) return argmax(logits, n);

  // Candidates sorted by logit, cut to top-k.
  int k = params_.top_k > 0 ? std::min(params_.top_k, n) : n;
  candidates_.resize(size_t(n));
  for (int i = 0; i < n; ++i) candidates_[size_t(i)] = {logits[i], i};
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), by_logit);
  candidates_.resize(size_t(k));

  // Softmax at the temperature, then the nucleus: the smallest prefix whose mass reaches top-p.
  float max_logit = candidates_[0].first;
  double total = 0;
  for (auto& c : candidates_) {
    c.first = float(std::exp(double(c.first - max_logit) / params_.temperature));
    total += c.first;
  }
  size_t keep = candidates_.size();
  if (params_.top_p < 1) {
    double mass = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      mass += candidates_[i].first / total;
      if (mass >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept_total = 0;
  for (size_t i = 0; i < keep; ++i) kept_total += candidates_[i].first;
  double r = std::uniform_real_distribution<double>(0.0, kept_total)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= candidates_[i].first;
    if (r < 0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace llmnpu
