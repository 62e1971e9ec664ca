#include "quant/weight_quant.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace llmnpu::quant {

static float absmax(const float* p, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(p[i]));
  return m;
}

int weight_outliers_per_row(double share, int in) {
  check(share >= 0 && share < 1, "weight outlier share must be in [0, 1), got ", share);
  return std::clamp(int(std::lround(share * double(in))), 0, std::max(0, in - 1));
}

QuantizedWeights quantize_weights(const float* w, int out, int in, bool per_channel, int outliers_per_row) {
  check(out > 0 && in > 0, "quantize_weights: empty matrix ", out, "x", in);
  check(outliers_per_row >= 0 && outliers_per_row < in, "quantize_weights: ", outliers_per_row,
        " outliers per row of ", in);
  check(outliers_per_row == 0 || int64_t(out) * int64_t(in) <= INT32_MAX, "quantize_weights: ", out, "x", in,
        " is too large for 32-bit weight outlier indices");
  QuantizedWeights r;
  r.out = out;
  r.in = in;
  r.per_channel = per_channel;
  const size_t K = size_t(in);
  check(std::isfinite(absmax(w, size_t(out) * K)), "quantize_weights: non-finite weight");
  // The int8 part: w with each row's outliers zeroed (they go to the sparse float correction).
  std::vector<float> rest(w, w + size_t(out) * K);
  if (outliers_per_row > 0) {
    std::vector<int32_t> order(K);
    for (size_t n = 0; n < size_t(out); ++n) {
      const float* row = w + n * K;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + outliers_per_row, order.end(),
                        [&](int32_t a, int32_t b) {
                          const float fa = std::fabs(row[a]), fb = std::fabs(row[b]);
                          return fa != fb ? fa > fb : a < b;
                        });
      std::sort(order.begin(), order.begin() + outliers_per_row);
      for (int i = 0; i < outliers_per_row; ++i) {
        const size_t k = size_t(order[size_t(i)]);
        if (row[k] == 0) continue;
        r.outlier_index.push_back(int32_t(n * K + k));
        r.outlier_value.push_back(row[k]);
        rest[n * K + k] = 0;
      }
    }
  }
  r.q.resize(size_t(out) * K);
  if (per_channel) {
    r.scales.resize(size_t(out));
    for (size_t n = 0; n < size_t(out); ++n) {
      const float m = absmax(rest.data() + n * K, K);
      r.scales[n] = m > 0 ? m / 127.0f : 1.0f;
    }
  } else {
    const float m = absmax(rest.data(), size_t(out) * K);
    r.scales.assign(1, m > 0 ? m / 127.0f : 1.0f);
  }
  for (size_t n = 0; n < size_t(out); ++n) {
    const float inv = 1.0f / r.scales[per_channel ? n : 0];
    for (size_t k = 0; k < K; ++k)
      r.q[n * K + k] = int8_t(std::clamp(std::nearbyint(rest[n * K + k] * inv), -127.0f, 127.0f));
  }
  return r;
}

}  // namespace llmnpu::quant
