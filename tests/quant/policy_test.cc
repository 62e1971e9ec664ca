// Activation statistics, scale policies and hot-channel selection on inputs with known answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/error.h"
#include "quant/activation_stats.h"
#include "quant/hot_channels.h"
#include "quant/scale_policy.h"

namespace llmnpu::quant {
namespace {

// T rows of K channels, all 1 except the given (channel, value) columns.
ActivationStats channel_stats(int K, int T, const std::vector<std::pair<int, float>>& big) {
  std::vector<float> x(size_t(K) * size_t(T), 1.0f);
  for (int t = 0; t < T; ++t)
    for (auto [k, v] : big) x[size_t(t) * size_t(K) + size_t(k)] = (t % 2 ? -v : v);
  ActivationStats s(K);
  s.record(x.data(), T, size_t(K));
  return s;
}

TEST(ActivationStats, PercentilesWithinABin) {
  std::vector<float> x(100000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i + 1) / float(x.size());  // uniform (0, 1]
  ActivationStats s(1000);
  s.record(x.data(), 100, 1000);
  EXPECT_EQ(s.elements(), 100000u);
  EXPECT_FLOAT_EQ(s.max(), 1.0f);
  for (double p : {50.0, 99.0, 99.9}) {
    const float v = s.percentile(p);
    EXPECT_GE(v, float(p / 100) * 0.999f) << p;
    EXPECT_LE(v, float(p / 100) * 1.017f) << p;
  }
}

TEST(ActivationStats, OutlierCountsPerChannel) {
  ActivationStats s = channel_stats(10, 8, {{3, 9.0f}, {6, 0.5f}});
  s.set_outlier_clip(2.0f);
  std::vector<float> x(80, 1.0f);
  for (int t = 0; t < 8; ++t) x[size_t(t) * 10 + 3] = 5.0f;
  x[5 * 10 + 4] = -2.5f;
  s.record_outliers(x.data(), 8, 10);
  EXPECT_EQ(s.channel_outliers()[3], 8u);
  EXPECT_EQ(s.channel_outliers()[4], 1u);
  EXPECT_EQ(s.total_outliers(), 9u);
}

// Pass 1 keeps the largest ~1-2% of elements: for any clip above what it dropped, the counts from that
// tail equal a second pass's exactly; below it, it declines and the second pass counts.
TEST(ActivationStats, TailCountsEqualASecondPass) {
  const int K = 203, T = 300;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(size_t(K) * size_t(T));
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t k = i % size_t(K);
    x[i] = normal(rng) * (k == 17 ? 40.0f : k == 90 ? 8.0f : 1.0f);
  }
  x[5 * K + 4] = 3.0f;  // ties at a clip: not beyond it
  x[9 * K + 4] = -3.0f;
  ActivationStats s(K);
  for (int t0 = 0; t0 < T; t0 += 37) s.record(x.data() + size_t(t0) * K, std::min(37, T - t0), size_t(K));
  bool declined = false;
  for (float clip : {3.0f, 4.0f, 6.5f, 30.0f, 100.0f, 0.5f, 0.0f}) {
    ActivationStats two_pass = s;
    two_pass.set_outlier_clip(clip);
    two_pass.record_outliers(x.data(), T, size_t(K));
    if (s.count_outliers_from_tail(clip)) {
      EXPECT_TRUE(s.outliers_from_tail());
      EXPECT_EQ(s.channel_outliers(), two_pass.channel_outliers()) << clip;
      EXPECT_FLOAT_EQ(s.outlier_clip(), clip);
      ActivationStats again = s;  // a second pass after tail counts adds nothing
      again.record_outliers(x.data(), T, size_t(K));
      EXPECT_EQ(again.channel_outliers(), s.channel_outliers());
    } else {
      declined = true;
      EXPECT_LT(clip, 2.0f) << "the kept tail should cover clips in the top 1% of |x|";
    }
  }
  EXPECT_TRUE(declined) << "a clip at the bulk of the values cannot be counted from the tail";
  EXPECT_FALSE(s.count_outliers_from_tail(-1.0f));
}

TEST(ScalePolicy, MaxUsesTheMax) {
  ScalePolicy p;
  p.method = ScaleMethod::Max;
  const ScaleChoice c = choose_scale(channel_stats(100, 10, {{7, 50.0f}}), p);
  EXPECT_FLOAT_EQ(c.clip, 50.0f);
  EXPECT_FLOAT_EQ(c.scale, 50.0f / 127.0f);
}

TEST(ScalePolicy, ChannelCutsOutlierChannels) {
  ScalePolicy p;  // channel is the default
  const ScaleChoice c = choose_scale(channel_stats(100, 10, {{7, 50.0f}, {40, 20.0f}}), p);
  EXPECT_EQ(c.outlier_channels, (std::vector<int>{7, 40}));
  EXPECT_FLOAT_EQ(c.clip, 1.0f);
  // Below the ratio: no outlier channel, the max.
  const ScaleChoice d = choose_scale(channel_stats(100, 10, {{7, 7.5f}}), p);
  EXPECT_TRUE(d.outlier_channels.empty());
  EXPECT_FLOAT_EQ(d.clip, 7.5f);
}

TEST(ScalePolicy, ChannelShareIsCapped) {
  ScalePolicy p;
  p.max_channel_share = 0.02;  // 2 of 100
  const ScaleChoice c = choose_scale(channel_stats(100, 4, {{1, 30}, {2, 50}, {3, 40}, {4, 20}}), p);
  EXPECT_EQ(c.outlier_channels, (std::vector<int>{2, 3}));
  EXPECT_FLOAT_EQ(c.clip, 30.0f);
}

TEST(ScalePolicy, PercentileRule) {
  ScalePolicy p;
  p.method = ScaleMethod::Percentile;
  // A lone element outlier: p99.9 * 64 < max, so clip at p99.9 (about 1).
  ActivationStats sparse = channel_stats(100, 100, {});
  std::vector<float> spike(100, 1.0f);
  spike[3] = 1000.0f;
  sparse.record(spike.data(), 1, 100);
  const ScaleChoice c = choose_scale(sparse, p);
  EXPECT_GE(c.clip, 1.0f);
  EXPECT_LE(c.clip, 1.02f);
  // A whole outlier channel (1% of the elements) sits above p99.9: the rule keeps the max.
  const ScaleChoice d = choose_scale(channel_stats(100, 100, {{7, 1000.0f}}), p);
  EXPECT_FLOAT_EQ(d.clip, 1000.0f);
}

TEST(ScalePolicy, TailPercentileCapsAnyMethod) {
  ScalePolicy p;
  p.method = ScaleMethod::Max;
  p.tail_percentile = 99;
  // 1% of the elements (one channel of 100) at 50: p99 is about 1, the cap.
  const ActivationStats s = channel_stats(100, 10, {{7, 50.0f}});
  const ScaleChoice c = choose_scale(s, p);
  EXPECT_GE(c.clip, 1.0f);
  EXPECT_LE(c.clip, 1.02f);
  EXPECT_FLOAT_EQ(c.scale, c.clip / 127.0f);
  p.tail_percentile = 100;
  EXPECT_FLOAT_EQ(choose_scale(s, p).clip, 50.0f);
}

TEST(ScalePolicy, AllZeroInput) {
  ActivationStats s(4);
  std::vector<float> x(8, 0.0f);
  s.record(x.data(), 2, 4);
  const ScaleChoice c = choose_scale(s, ScalePolicy{});
  EXPECT_GT(c.scale, 0.0f);
}

TEST(ScalePolicy, Names) {
  EXPECT_EQ(parse_scale_method("percentile"), ScaleMethod::Percentile);
  EXPECT_THROW(parse_scale_method("p99"), Error);
}

TEST(HotChannels, KnownCase) {
  const std::vector<uint64_t> counts{0, 50, 10, 30, 5, 5};
  EXPECT_EQ(select_hot_channels(counts, 0.8), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(select_hot_channels(counts, 0.81), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(select_hot_channels(counts, 0.0), (std::vector<int32_t>{}));
  EXPECT_EQ(select_hot_channels(std::vector<uint64_t>(5, 0), 0.8), (std::vector<int32_t>{}));
  EXPECT_DOUBLE_EQ(outlier_coverage(counts, {1, 3}), 0.8);
  EXPECT_THROW(select_hot_channels(counts, 1.5), Error);
}

TEST(HotChannels, MinimalAndCovering) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int K = 10;
    std::vector<uint64_t> counts(K);
    for (auto& c : counts) c = rng() % 4 == 0 ? rng() % 100 : rng() % 3;
    const double share = double(rng() % 101) / 100.0;
    const auto hot = select_hot_channels(counts, share);
    const uint64_t total = std::accumulate(counts.begin(), counts.end(), uint64_t(0));
    if (total == 0) {
      EXPECT_TRUE(hot.empty());
      continue;
    }
    EXPECT_GE(outlier_coverage(counts, hot) + 1e-12, share);
    // Brute force: no smaller set covers the share.
    size_t best = K + 1;
    for (uint32_t mask = 0; mask < (1u << K); ++mask) {
      uint64_t covered = 0;
      for (int k = 0; k < K; ++k)
        if (mask >> k & 1) covered += counts[size_t(k)];
      if (double(covered) >= share * double(total))
        best = std::min<size_t>(best, size_t(std::popcount(mask)));
    }
    EXPECT_EQ(hot.size(), best) << "trial " << trial;
  }
}

}  // namespace
}  // namespace llmnpu::quant
