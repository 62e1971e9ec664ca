// The resident budget: hot channels cut back globally by outliers per resident byte, the budget held
// exactly; and on prepared linears, the kept hot rows are the float weight columns of those channels.
#include "quant/resident_budget.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "core/half.h"
#include "quant/prepared_model.h"

namespace llmnpu::quant {
namespace {

// Outliers per byte: a0 10, a1 1, a2 0.1 (rows of 10 bytes, 5 fixed bytes); b3 15, b0 12.5 (rows of 4);
// c0 0.5 (rows of 2). Requested: 5 + 30 + 8 + 2 = 45 bytes.
std::vector<HotChannelRequest> example() {
  return {{{0, 1, 2}, {100, 10, 1, 0}, 10, 5}, {{0, 3}, {50, 0, 0, 60}, 4, 0}, {{0}, {1}, 2, 0}};
}

TEST(ResidentBudget, EverythingKeptWhenItFits) {
  const BudgetedHotChannels r = fit_hot_channels(example(), 45);
  EXPECT_TRUE(r.fits);
  EXPECT_EQ(r.resident_bytes, 45u);
  EXPECT_EQ(r.requested_bytes, 45u);
  EXPECT_EQ(r.dropped_channels, 0u);
  EXPECT_EQ(r.channels, (std::vector<std::vector<int32_t>>{{0, 1, 2}, {0, 3}, {0}}));
}

TEST(ResidentBudget, GreedyByOutliersPerByte) {
  // 5 fixed; b3 -> 9, b0 -> 13, a0 -> 23, a1 -> 33 > 32 skipped, c0 -> 25, a2 -> 35 skipped.
  const BudgetedHotChannels r = fit_hot_channels(example(), 32);
  EXPECT_TRUE(r.fits);
  EXPECT_EQ(r.channels, (std::vector<std::vector<int32_t>>{{0}, {0, 3}, {0}}));
  EXPECT_EQ(r.resident_bytes, 25u);
  EXPECT_EQ(r.requested_bytes, 45u);
  EXPECT_EQ(r.dropped_channels, 2u);
  // One byte more than a0 + a1 + b needs: a1 now fits, c0 still does.
  const BudgetedHotChannels s = fit_hot_channels(example(), 35);
  EXPECT_EQ(s.channels, (std::vector<std::vector<int32_t>>{{0, 1}, {0, 3}, {0}}));
  EXPECT_EQ(s.resident_bytes, 35u);
}

TEST(ResidentBudget, BudgetHeldForEveryBudget) {
  for (size_t budget = 5; budget <= 45; ++budget) {
    const BudgetedHotChannels r = fit_hot_channels(example(), budget);
    EXPECT_LE(r.resident_bytes, budget) << budget;
    size_t kept = 0;
    for (const auto& c : r.channels) kept += c.size();
    EXPECT_EQ(kept + r.dropped_channels, 6u) << budget;
  }
}

TEST(ResidentBudget, FixedBytesOverBudgetKeepNoRows) {
  const BudgetedHotChannels r = fit_hot_channels(example(), 4);
  EXPECT_FALSE(r.fits);
  EXPECT_EQ(r.resident_bytes, 5u);
  EXPECT_EQ(r.channels, (std::vector<std::vector<int32_t>>{{}, {}, {}}));
}

TEST(ResidentBudget, PreparedLinearsKeepTheBudgetedRowsOfTheirFloatWeights) {
  const int in = 32, out = 24;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0, 1);
  std::vector<std::vector<float>> weights;
  std::vector<ActivationStats> stats;
  std::vector<ScaleChoice> choices;
  std::vector<HotChannelRequest> requests;
  LinearPrepareOptions o;
  o.weight_outlier_share = 0;
  o.hot_share = 1.0;
  for (int l = 0; l < 2; ++l) {
    std::vector<float> w(size_t(in) * out), x(size_t(in) * 64);
    for (auto& v : w) v = nd(rng);
    for (auto& v : x) v = nd(rng);
    // Channel 3 loud in every row, channel 7 in one row of four, channel 9 (layer 1 only) in every other.
    for (int t = 0; t < 64; ++t) {
      x[size_t(t) * in + 3] = 50;
      if (t % 4 == 0) x[size_t(t) * in + 7] = 50;
      if (l == 1 && t % 2 == 0) x[size_t(t) * in + 9] = 50;
    }
    ActivationStats st(in);
    st.record(x.data(), 64, size_t(in));
    ScalePolicy policy;
    policy.method = ScaleMethod::Channel;
    policy.max_channel_share = 0.2;
    const ScaleChoice c = choose_scale(st, policy);
    st.set_outlier_clip(c.clip);
    st.record_outliers(x.data(), 64, size_t(in));
    requests.push_back(hot_channel_request(st, out, o));
    weights.push_back(w);
    stats.push_back(st);
    choices.push_back(c);
  }
  ASSERT_EQ(requests[0].channels, (std::vector<int32_t>{3, 7}));
  ASSERT_EQ(requests[1].channels, (std::vector<int32_t>{3, 7, 9}));
  // Three rows of 48 bytes fit in 150: both channel 3s (64 outliers) and layer 1's channel 9 (32).
  const BudgetedHotChannels r = fit_hot_channels(requests, 150);
  EXPECT_EQ(r.resident_bytes, 144u);
  std::vector<PreparedLinear> linears;
  for (int l = 0; l < 2; ++l)
    linears.push_back(prepare_linear(l, LinearSlot::Qkv, weights[size_t(l)].data(), out, in, {},
                                     stats[size_t(l)], choices[size_t(l)], o, r.channels[size_t(l)]));
  EXPECT_EQ(linears[0].hot_channels, (std::vector<int32_t>{3}));
  EXPECT_EQ(linears[1].hot_channels, (std::vector<int32_t>{3, 9}));
  EXPECT_DOUBLE_EQ(linears[0].hot_coverage, 64.0 / 80.0);
  EXPECT_DOUBLE_EQ(linears[1].hot_coverage, 96.0 / 112.0);
  size_t bytes = 0;
  for (const PreparedLinear& L : linears) {
    bytes += L.hot_bytes();
    ASSERT_EQ(L.hot_rows.size(), L.hot_channels.size() * size_t(out));
    for (size_t h = 0; h < L.hot_channels.size(); ++h)
      for (int n = 0; n < out; ++n)
        EXPECT_EQ(L.hot_rows[h * out + size_t(n)],
                  float_to_half(weights[size_t(L.layer)][size_t(n) * in + size_t(L.hot_channels[h])]));
  }
  EXPECT_EQ(bytes, 144u);
}

}  // namespace
}  // namespace llmnpu::quant
