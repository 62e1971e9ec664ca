#include "quant/hot_channels.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace llmnpu::quant {

std::vector<int32_t> select_hot_channels(const std::vector<uint64_t>& counts, double share) {
  check(share >= 0 && share <= 1, "hot-channel share must be in [0, 1], got ", share);
  const uint64_t total = std::accumulate(counts.begin(), counts.end(), uint64_t(0));
  if (total == 0 || share == 0) return {};
  // Taking channels by decreasing count reaches any target with the fewest channels.
  std::vector<int32_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return counts[size_t(a)] > counts[size_t(b)]; });
  const double target = share * double(total);
  std::vector<int32_t> hot;
  uint64_t covered = 0;
  for (int32_t k : order) {
    if (double(covered) >= target || counts[size_t(k)] == 0) break;
    hot.push_back(k);
    covered += counts[size_t(k)];
  }
  std::sort(hot.begin(), hot.end());
  return hot;
}

double outlier_coverage(const std::vector<uint64_t>& counts, const std::vector<int32_t>& channels) {
  const uint64_t total = std::accumulate(counts.begin(), counts.end(), uint64_t(0));
  if (total == 0) return 1.0;
  uint64_t covered = 0;
  for (int32_t k : channels)
    if (k >= 0 && size_t(k) < counts.size()) covered += counts[size_t(k)];
  return double(covered) / double(total);
}

}  // namespace llmnpu::quant
