#pragma once
// Hot channels: the smallest set of input channels that holds at least `share` of a linear's
// calibration outliers. Their float weight rows stay resident; the others are read on demand.
#include <cstdint>
#include <vector>

namespace llmnpu::quant {

// channel_outliers[k]: outliers counted in channel k. Returns channel ids in increasing order
// (empty when there were no outliers). share in [0, 1].
std::vector<int32_t> select_hot_channels(const std::vector<uint64_t>& channel_outliers, double share);

// Outliers of `channels` / all outliers (1 when there are none).
double outlier_coverage(const std::vector<uint64_t>& channel_outliers, const std::vector<int32_t>& channels);

}  // namespace llmnpu::quant
