// RMSNorm, RoPE, SiLU*up, softmax, add: SIMD versions against double-precision references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/float_isa.h"
#include "kernels/norm.h"
#include "kernels/rope.h"

namespace llmnpu::kernels {
namespace {

std::vector<const detail::FloatIsa*> available_isas() { return detail::float_isas_available(); }

struct ForceIsa {
  explicit ForceIsa(const detail::FloatIsa* isa) { detail::force_float_isa(isa); }
  ~ForceIsa() { detail::force_float_isa(nullptr); }
};

std::vector<float> random_vector(size_t n, uint32_t seed, float range) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-range, range);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_rel_close(const std::vector<float>& got, const std::vector<float>& want, double rel, double abs) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], abs + rel * std::fabs(want[i])) << "at " << i;
}

TEST(RmsNorm, MatchesReferenceInPlaceStridedThreaded) {
  ThreadPool pool(2);
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (int cols : {1, 7, 33, 257, 896})
      for (bool with_weight : {false, true}) {
        const int rows = 9;
        const size_t ld = size_t(cols) + 3;
        auto x = random_vector(size_t(rows) * ld + 1, 1, 3.0f), w = random_vector(size_t(cols), 2, 2.0f);
        std::vector<float> want = x, got(x.size(), 0.0f), in_place = x, threaded = x;
        const float* weight = with_weight ? w.data() : nullptr;
        rmsnorm_reference(x.data() + 1, ld, rows, cols, weight, 1e-6f, want.data() + 1, ld);
        got = x;
        rmsnorm(x.data() + 1, ld, rows, cols, weight, 1e-6f, got.data() + 1, ld);
        rmsnorm(in_place.data() + 1, ld, rows, cols, weight, 1e-6f, in_place.data() + 1, ld);
        rmsnorm(threaded.data() + 1, ld, rows, cols, weight, 1e-6f, threaded.data() + 1, ld, &pool);
        SCOPED_TRACE(testing::Message() << isa->name << " cols=" << cols);
        expect_rel_close(got, want, 2e-6, 1e-7);
        ASSERT_EQ(got, in_place);
        ASSERT_EQ(got, threaded);
      }
  }
}

TEST(RmsNorm, ZeroRowGivesZerosAndEmptyIsNoop) {
  std::vector<float> x(8, 0.0f), y(8, 5.0f);
  rmsnorm(x.data(), 8, 1, 8, nullptr, 1e-5f, y.data(), 8);
  EXPECT_EQ(y, std::vector<float>(8, 0.0f));
  rmsnorm(nullptr, 0, 0, 8, nullptr, 1e-5f, nullptr, 0);
}

TEST(Rope, KnownRotations) {
  // Interleaved, one pair, position 1, frequency 1: (1, 0) -> (cos 1, sin 1).
  std::vector<float> x = {1, 0};
  rope_apply(x.data(), 2, 1, 1, 2, 1, {1.0}, RopePairing::Interleaved);
  EXPECT_FLOAT_EQ(x[0], float(std::cos(1.0)));
  EXPECT_FLOAT_EQ(x[1], float(std::sin(1.0)));
  // HalfSplit pairs (x0, x2) and (x1, x3).
  std::vector<float> y = {1, 2, 0, 0};
  rope_apply(y.data(), 4, 1, 1, 4, 1, {1.0, 0.01}, RopePairing::HalfSplit);
  EXPECT_FLOAT_EQ(y[0], float(std::cos(1.0)));
  EXPECT_FLOAT_EQ(y[2], float(std::sin(1.0)));
  EXPECT_FLOAT_EQ(y[1], float(2 * std::cos(0.01)));
  EXPECT_FLOAT_EQ(y[3], float(2 * std::sin(0.01)));
  // Position 0 is the identity.
  std::vector<float> z = {3, 4, 5, 6};
  rope_apply(z.data(), 4, 1, 1, 4, 0, {1.0, 0.5}, RopePairing::Interleaved);
  EXPECT_EQ(z, (std::vector<float>{3, 4, 5, 6}));
}

TEST(Rope, MatchesReferenceAtLongPositionsBothPairings) {
  for (RopePairing pairing : {RopePairing::Interleaved, RopePairing::HalfSplit})
    for (int head_dim : {64, 80, 128})
      for (int rotary : {head_dim, head_dim / 2}) {
        const int T = 5, heads = 3;
        const size_t stride = size_t(heads) * head_dim + 7;
        auto inv_freq = rope_inv_freq(rotary, 1e6);
        auto x = random_vector(size_t(T) * stride, 3, 1.0f);
        std::vector<float> want = x, got = x;
        rope_apply_reference(want.data(), stride, T, heads, head_dim, 32760, inv_freq, pairing);
        rope_apply(got.data(), stride, T, heads, head_dim, 32760, inv_freq, pairing);
        SCOPED_TRACE(testing::Message() << "head_dim=" << head_dim << " rotary=" << rotary);
        expect_rel_close(got, want, 0, 5e-7);
        // Dimensions past the rotary part and the padding between tokens are untouched.
        for (int t = 0; t < T; ++t)
          for (size_t i = size_t(heads) * head_dim; i < stride; ++i)
            ASSERT_EQ(got[t * stride + i], x[t * stride + i]);
        for (int i = rotary; i < head_dim; ++i) ASSERT_EQ(got[i], x[i]);
      }
}

// rope_apply keeps the last cos/sin table per thread: a call with other positions, another length or
// other frequencies (same rotary size) must not reuse it.
TEST(Rope, KeptTableFollowsPositionsLengthAndFrequencies) {
  const int heads = 2, head_dim = 64;
  const size_t stride = size_t(heads) * head_dim;
  const auto base_a = rope_inv_freq(head_dim, 1e4), base_b = rope_inv_freq(head_dim, 1e6);
  struct Call {
    int pos0, T;
    const std::vector<double>* inv_freq;
  };
  const Call calls[] = {{0, 4, &base_a}, {0, 4, &base_a}, {0, 2, &base_a}, {0, 9, &base_a},
                        {7, 9, &base_a}, {7, 9, &base_b}, {7, 3, &base_a}};
  for (const Call& c : calls) {
    auto x = random_vector(size_t(c.T) * stride, 9, 1.0f);
    std::vector<float> want = x, got = x;
    rope_apply_reference(want.data(), stride, c.T, heads, head_dim, c.pos0, *c.inv_freq,
                         RopePairing::HalfSplit);
    rope_apply(got.data(), stride, c.T, heads, head_dim, c.pos0, *c.inv_freq, RopePairing::HalfSplit);
    SCOPED_TRACE(testing::Message() << "pos0=" << c.pos0 << " T=" << c.T);
    expect_rel_close(got, want, 0, 5e-7);
  }
}

TEST(Rope, InverseFrequenciesAndScaling) {
  auto plain = rope_inv_freq(8, 10000.0);
  ASSERT_EQ(plain.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(plain[i], std::pow(10000.0, -2.0 * i / 8));
  auto linear = rope_inv_freq(8, 10000.0, {RopeScalingKind::Linear, 4.0});
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(linear[i], plain[i] / 4);

  // Llama 3.1: factor 8, low 1, high 4, original context 8192, base 500000, head_dim 128.
  RopeScalingParams llama3{RopeScalingKind::Llama3, 8.0, 1.0, 4.0, 8192};
  auto base = rope_inv_freq(128, 500000.0), scaled = rope_inv_freq(128, 500000.0, llama3);
  int kept = 0, divided = 0, blended = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    double wavelen = 2 * std::numbers::pi / base[i];
    if (wavelen < 8192 / 4.0) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i]);
      ++kept;
    } else if (wavelen > 8192 / 1.0) {
      EXPECT_DOUBLE_EQ(scaled[i], base[i] / 8);
      ++divided;
    } else {
      double smooth = (8192 / wavelen - 1.0) / 3.0;
      EXPECT_NEAR(scaled[i], (1 - smooth) * base[i] / 8 + smooth * base[i], 1e-15);
      ++blended;
      EXPECT_LT(scaled[i], base[i]);
      EXPECT_GT(scaled[i], base[i] / 8);
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(divided, 0);
  EXPECT_GT(blended, 0);
}

TEST(Rope, RejectsBadDimensions) {
  EXPECT_THROW(rope_inv_freq(7, 10000.0), Error);
  std::vector<float> x(8);
  EXPECT_THROW(rope_apply(x.data(), 8, 1, 1, 4, 0, rope_inv_freq(8, 10000.0), RopePairing::HalfSplit), Error);
}

TEST(SiluMul, MatchesReference) {
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (size_t n : {size_t(0), size_t(1), size_t(7), size_t(33), size_t(1000)}) {
      auto gate = random_vector(n + 1, 4, 20.0f), up = random_vector(n + 1, 5, 2.0f);
      if (n > 3) gate[1] = -100.0f, gate[2] = 100.0f, gate[3] = 0.0f;
      std::vector<float> want(n + 1, 9.0f), got = want;
      silu_mul_reference(gate.data() + 1, up.data() + 1, want.data() + 1, n);
      silu_mul(gate.data() + 1, up.data() + 1, got.data() + 1, n);
      SCOPED_TRACE(testing::Message() << isa->name << " n=" << n);
      expect_rel_close(got, want, 2e-6, 1e-30);
      // In place (out aliases gate).
      std::vector<float> in_place(gate.begin() + 1, gate.end());
      silu_mul(in_place.data(), up.data() + 1, in_place.data(), n);
      ASSERT_EQ(in_place, std::vector<float>(got.begin() + 1, got.end()));
    }
  }
}

TEST(Softmax, MatchesReferenceAndIsStable) {
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(1000)}) {
      auto x = random_vector(n, 6, 30.0f);
      x[0] = 1000.0f;  // would overflow exp without the max shift
      std::vector<float> want = x, got = x;
      softmax_reference(want.data(), n);
      softmax(got.data(), n);
      SCOPED_TRACE(testing::Message() << isa->name << " n=" << n);
      expect_rel_close(got, want, 2e-6, 1e-30);
    }
    std::vector<float> masked = {1.0f, -std::numeric_limits<float>::infinity(), 1.0f};
    softmax(masked.data(), 3);
    EXPECT_FLOAT_EQ(masked[0], 0.5f);
    EXPECT_EQ(masked[1], 0.0f);
    softmax(nullptr, 0);
  }
}

TEST(Add, ElementwiseAndInPlace) {
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    auto a = random_vector(37, 7, 1.0f), b = random_vector(37, 8, 1.0f);
    std::vector<float> out(37);
    add(a.data(), b.data(), out.data(), 37);
    for (size_t i = 0; i < 37; ++i) ASSERT_EQ(out[i], a[i] + b[i]);
    add(a.data(), b.data(), a.data(), 37);
    ASSERT_EQ(a, out);
  }
}

}  // namespace
}  // namespace llmnpu::kernels
