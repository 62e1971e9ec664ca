#include "kernels/quantize_outliers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/activation.h"
#include "kernels/swiglu_quantize.h"

namespace llmnpu {
namespace {

struct Result {
  std::vector<int8_t> q;
  std::vector<kernels::OutlierEntry> outliers;
};

template <typename Fn>
Result run(Fn fn, const std::vector<float>& x, int m, int k, int ldx, float scale, int ldq) {
  Result r;
  r.q.assign(size_t(m) * ldq + 1, 55);
  r.outliers.push_back({-1, -1, 0.0f});  // entries are appended, never replace
  size_t added = fn(x.data(), m, k, ldx, scale, r.q.data(), ldq, &r.outliers);
  EXPECT_EQ(added, r.outliers.size() - 1);
  return r;
}

void expect_same(const std::vector<float>& x, int m, int k, int ldx, float scale, int ldq) {
  Result got = run(quantize_with_outliers, x, m, k, ldx, scale, ldq);
  Result want = run(quantize_with_outliers_reference, x, m, k, ldx, scale, ldq);
  EXPECT_EQ(got.q, want.q) << m << "x" << k;
  ASSERT_EQ(got.outliers.size(), want.outliers.size()) << m << "x" << k;
  for (size_t i = 0; i < got.outliers.size(); ++i) {
    EXPECT_EQ(got.outliers[i].row, want.outliers[i].row);
    EXPECT_EQ(got.outliers[i].channel, want.outliers[i].channel);
    EXPECT_EQ(std::memcmp(&got.outliers[i].value, &want.outliers[i].value, sizeof(float)), 0);
  }
}

TEST(QuantizeOutliers, MatchesReferenceOnOddShapes) {
  std::mt19937 rng(3);
  std::student_t_distribution<float> heavy(2.0f);  // heavy tails: a few outliers per row
  for (int m : {1, 3, 7, 33})
    for (int k : {1, 15, 16, 17, 100, 257}) {
      const int ldx = k + 3, ldq = k + 1;
      std::vector<float> x(size_t(m) * ldx);
      for (auto& v : x) v = heavy(rng);
      expect_same(x, m, k, ldx, 0.02f, ldq);
    }
}

TEST(QuantizeOutliers, ValuesAndEntriesByHand) {
  // scale 0.5: 63.6 -> 127.2 scaled (outlier, value 63.6 - 63.5), -64 -> -128 (outlier), 63.5 -> 127 exact.
  const std::vector<float> x = {0.25f, 0.75f, -0.25f, 63.6f, -64.0f, 63.5f, 1.0f};
  for (auto fn : {quantize_with_outliers, quantize_with_outliers_reference}) {
    Result r = run(fn, x, 1, 7, 7, 0.5f, 7);
    EXPECT_EQ(r.q, (std::vector<int8_t>{0, 2, 0, 127, -127, 127, 2, 55}));  // 0.5 and 1.5 round to even
    ASSERT_EQ(r.outliers.size(), 3u);
    EXPECT_EQ(r.outliers[1].channel, 3);
    EXPECT_EQ(r.outliers[1].value, 63.6f - 63.5f);
    EXPECT_EQ(r.outliers[2].channel, 4);
    EXPECT_EQ(r.outliers[2].value, -0.5f);
    // Reconstruction: q * s + value gives x back (up to float rounding).
    EXPECT_NEAR(127 * 0.5f + r.outliers[1].value, 63.6f, 1e-6f);
  }
}

TEST(QuantizeOutliers, NonFiniteAndEmpty) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {nan, inf, -inf, 1.0f};
  for (auto fn : {quantize_with_outliers, quantize_with_outliers_reference}) {
    Result r = run(fn, x, 1, 4, 4, 1.0f, 4);
    EXPECT_EQ(r.q, (std::vector<int8_t>{-127, 127, -127, 1, 55}));
    ASSERT_EQ(r.outliers.size(), 3u);
    EXPECT_EQ(r.outliers[1].value, inf);
    EXPECT_EQ(r.outliers[2].value, -inf);
    Result empty = run(fn, x, 0, 4, 4, 1.0f, 4);
    EXPECT_EQ(empty.outliers.size(), 1u);
  }
  std::vector<kernels::OutlierEntry> list;
  int8_t q[4];
  EXPECT_THROW(quantize_with_outliers(x.data(), 1, 4, 4, 0.0f, q, 4, &list), Error);
  EXPECT_THROW(quantize_with_outliers(x.data(), 1, 4, 3, 1.0f, q, 4, &list), Error);
}

}  // namespace
}  // namespace llmnpu

namespace llmnpu {
namespace {

// The fused down-projection input: identical codes and entries to silu_mul then quantize_with_outliers,
// across block edges (kSwigluBlock = 1024) and with rows whose gate and up share one strided buffer.
TEST(SwigluQuantize, EqualsSiluMulThenQuantize) {
  for (int k : {1, 17, 1024, 1030, 2500}) {
    const int m = 3;
    const size_t ld = size_t(2 * k + 5);
    std::mt19937 rng{uint32_t(k)};
    std::normal_distribution<float> nd(0, 2);
    std::vector<float> gate_up(size_t(m) * ld);
    for (auto& v : gate_up) v = nd(rng);
    for (int r = 0; r < m; ++r) gate_up[size_t(r) * ld + size_t(k / 2)] = 300.0f;  // an outlier per row
    const float scale = 4.0f / 127.0f;
    const int ldq = k + 3;

    std::vector<float> h(size_t(m) * size_t(k));
    for (int r = 0; r < m; ++r)
      kernels::silu_mul(gate_up.data() + size_t(r) * ld, gate_up.data() + size_t(r) * ld + size_t(k),
                        h.data() + size_t(r) * size_t(k), size_t(k));
    std::vector<int8_t> want_q(size_t(m) * size_t(ldq), 9), got_q = want_q;
    std::vector<kernels::OutlierEntry> want{{-1, -1, 0.0f}}, got = want;
    quantize_with_outliers(h.data(), m, k, k, scale, want_q.data(), ldq, &want);
    const size_t added = kernels::silu_mul_quantize_with_outliers(gate_up.data(), gate_up.data() + k, m, k,
                                                                  ld, scale, got_q.data(), ldq, &got);
    SCOPED_TRACE(testing::Message() << "k=" << k);
    EXPECT_EQ(added, got.size() - 1);
    EXPECT_GE(added, size_t(m));
    EXPECT_EQ(got_q, want_q);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].row, want[i].row);
      EXPECT_EQ(got[i].channel, want[i].channel);
      EXPECT_EQ(std::memcmp(&got[i].value, &want[i].value, sizeof(float)), 0);
    }
  }
}

TEST(SwigluQuantize, RejectsBadShapes) {
  std::vector<float> x(8);
  std::vector<int8_t> q(8);
  std::vector<kernels::OutlierEntry> list;
  EXPECT_THROW(
      kernels::silu_mul_quantize_with_outliers(x.data(), x.data() + 2, 2, 4, 3, 1.0f, q.data(), 4, &list),
      Error);
  EXPECT_THROW(
      kernels::silu_mul_quantize_with_outliers(x.data(), x.data() + 2, 1, 2, 4, 1.0f, q.data(), 2, nullptr),
      Error);
}

}  // namespace
}  // namespace llmnpu
