#pragma once
// Symmetric int8 weights: q = round(w / s), s = max|w| / 127 per output channel (row) or per tensor.
#include <cstdint>
#include <vector>

namespace llmnpu::quant {

struct QuantizedWeights {
  int out = 0, in = 0;
  std::vector<int8_t> q;      // [out][in]
  std::vector<float> scales;  // [out] per channel, [1] per tensor
  bool per_channel = true;
};

QuantizedWeights quantize_weights(const float* w, int out, int in, bool per_channel);

}  // namespace llmnpu::quant
