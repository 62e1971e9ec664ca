#pragma once
// Comparisons the numeric tests share.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/config.h"

namespace llmnpu::test {

// The largest |a[i] - b[i]| (a size mismatch is a test failure).
inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// dim 8, 2 heads of 4 (q_dim 8), 1 kv head (kv_dim 4), ffn 16, vocab 10: a config small enough to count
// its work by hand.
inline ModelConfig small_config(int layers = 1) {
  ModelConfig c;
  c.dim = 8;
  c.n_layers = layers;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 4;
  c.ffn_dim = 16;
  c.vocab_size = 10;
  return c;
}

}  // namespace llmnpu::test
