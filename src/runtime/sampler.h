#pragma once
// Next-token choice from logits: greedy, or temperature + top-k + top-p with a seeded generator
// (the same seed and logits always give the same token).
#include <cstdint>
#include <random>
#include <vector>

namespace llmnpu {

struct SamplerParams {
  float temperature = 0.8f;  // <= 0 means greedy
  int top_k = 40;            // <= 0 means all tokens
  float top_p = 0.95f;       // >= 1 means no nucleus cut
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerParams params);
  int32_t sample(const float* logits, int vocab_size);
  const SamplerParams& params() const { return params_; }

 private:
  SamplerParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

int32_t argmax(const float* logits, int n);

}  // namespace llmnpu
