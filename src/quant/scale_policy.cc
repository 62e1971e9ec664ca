#include "quant/scale_policy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace llmnpu::quant {

const char* scale_method_name(ScaleMethod m) {
  switch (m) {
    case ScaleMethod::Max: return "max";
    case ScaleMethod::Percentile: return "percentile";
    case ScaleMethod::Channel: return "channel";
  }
  return "?";
}

ScaleMethod parse_scale_method(const std::string& name) {
  if (name == "max") return ScaleMethod::Max;
  if (name == "percentile") return ScaleMethod::Percentile;
  if (name == "channel") return ScaleMethod::Channel;
  fail("unknown scale method '", name, "' (max, percentile, channel)");
}

static std::vector<int> channel_outliers(const std::vector<float>& channel_max, const ScalePolicy& p) {
  const size_t K = channel_max.size();
  if (K == 0) return {};
  std::vector<float> sorted = channel_max;
  std::nth_element(sorted.begin(), sorted.begin() + long(K / 2), sorted.end());
  const float median = sorted[K / 2];
  std::vector<int> order(K);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return channel_max[size_t(a)] > channel_max[size_t(b)]; });
  const size_t limit = std::max<size_t>(1, size_t(std::floor(p.max_channel_share * double(K))));
  std::vector<int> out;
  for (size_t i = 0; i < K && out.size() < limit; ++i) {
    if (!(channel_max[size_t(order[i])] > p.channel_ratio * median)) break;
    out.push_back(order[i]);
  }
  return out;
}

ScaleChoice choose_scale(const ActivationStats& stats, const ScalePolicy& policy) {
  ScaleChoice c;
  const float max = stats.max();
  c.clip = max;
  switch (policy.method) {
    case ScaleMethod::Max: break;
    case ScaleMethod::Percentile: {
      const float p = stats.percentile(policy.percentile);
      if (!(double(p) * policy.ratio > double(max))) c.clip = p;
      break;
    }
    case ScaleMethod::Channel: {
      c.outlier_channels = channel_outliers(stats.channel_max(), policy);
      if (!c.outlier_channels.empty()) {
        std::vector<bool> is_outlier(stats.channel_max().size(), false);
        for (int k : c.outlier_channels) is_outlier[size_t(k)] = true;
        float rest = 0;
        for (size_t k = 0; k < is_outlier.size(); ++k)
          if (!is_outlier[k]) rest = std::max(rest, stats.channel_max()[k]);
        c.clip = rest;
      }
      break;
    }
  }
  if (policy.tail_percentile < 100) c.clip = std::min(c.clip, stats.percentile(policy.tail_percentile));
  c.scale = c.clip > 0 ? c.clip / 127.0f : 1.0f;
  if (!(c.clip > 0)) c.clip = 127.0f;
  return c;
}

}  // namespace llmnpu::quant
