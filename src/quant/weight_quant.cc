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
  // The int8 part is w with each row's outliers zeroed (they go to the sparse float correction). It is
  // built one row at a time: a copy of the whole matrix is tens of MB of fresh pages per linear.
  std::vector<float> row_max(static_cast<size_t>(out));
  std::vector<float> rest(K);
  std::vector<int32_t> order(outliers_per_row > 0 ? K : 0);
  std::vector<size_t> row_outliers_end(size_t(out), 0);  // r.outlier_index up to here: rows <= n
  for (size_t n = 0; n < size_t(out); ++n) {
    const float* row = w + n * K;
    if (outliers_per_row > 0) {
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + outliers_per_row, order.end(),
                        [&](int32_t a, int32_t b) {
                          const float fa = std::fabs(row[a]), fb = std::fabs(row[b]);
                          return fa != fb ? fa > fb : a < b;
                        });
      std::sort(order.begin(), order.begin() + outliers_per_row);
      std::copy(row, row + K, rest.begin());
      for (int i = 0; i < outliers_per_row; ++i) {
        const size_t k = size_t(order[size_t(i)]);
        if (row[k] == 0) continue;
        r.outlier_index.push_back(int32_t(n * K + k));
        r.outlier_value.push_back(row[k]);
        rest[k] = 0;
      }
      row_max[n] = absmax(rest.data(), K);
    } else {
      row_max[n] = absmax(row, K);
    }
    row_outliers_end[n] = r.outlier_index.size();
  }
  if (per_channel) {
    r.scales.resize(size_t(out));
    for (size_t n = 0; n < size_t(out); ++n) r.scales[n] = row_max[n] > 0 ? row_max[n] / 127.0f : 1.0f;
  } else {
    const float m = *std::max_element(row_max.begin(), row_max.end());
    r.scales.assign(1, m > 0 ? m / 127.0f : 1.0f);
  }
  r.q.resize(size_t(out) * K);
  size_t next_outlier = 0;
  for (size_t n = 0; n < size_t(out); ++n) {
    const float inv = 1.0f / r.scales[per_channel ? n : 0];
    const float* row = w + n * K;
    int8_t* q = r.q.data() + n * K;
    for (size_t k = 0; k < K; ++k) q[k] = int8_t(std::clamp(std::nearbyint(row[k] * inv), -127.0f, 127.0f));
    for (; next_outlier < row_outliers_end[n]; ++next_outlier)
      q[size_t(r.outlier_index[next_outlier]) - n * K] = 0;
  }
  return r;
}

}  // namespace llmnpu::quant
