#pragma once
// Symmetric int8 weights: q = round(w / s), s = max|w| / 127 per output channel (row) or per tensor.
// Optional weight outliers: the `outliers_per_row` largest-magnitude weights of each row leave the int8
// matrix (q = 0 there) and are kept in float as a sparse correction the host adds (y[t][n] += x[t][k] * w),
// so the row's scale covers only the remaining, much narrower, weights.
#include <cstdint>
#include <vector>

namespace llmnpu::quant {

struct QuantizedWeights {
  int out = 0, in = 0;
  std::vector<int8_t> q;      // [out][in]
  std::vector<float> scales;  // [out] per channel, [1] per tensor
  bool per_channel = true;
  std::vector<int32_t> outlier_index;  // n * in + k, increasing
  std::vector<float> outlier_value;    // the float weight at each outlier_index
};

QuantizedWeights quantize_weights(const float* w, int out, int in, bool per_channel,
                                  int outliers_per_row = 0);

// Weight outliers per row for a share of the row's weights (rounded to nearest, at most in - 1).
int weight_outliers_per_row(double share, int in);

}  // namespace llmnpu::quant
