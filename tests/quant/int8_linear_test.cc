// Int8Linear against float on random data with planted outlier channels: with the shadow path the
// error is small, without it large; hot and cold rows give identical results; decode paths.
#include "backend/int8_linear.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>
#include <tuple>

#include "backend/int8_linear_kernels.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/float_gemm.h"
#include "quant/weight_quant.h"

namespace llmnpu {
namespace {

struct Problem {
  int T = 24, K = 256, N = 80;
  std::vector<float> x, w;
  std::vector<int> outlier_channels{5, 77, 200};
  float clip = 0;
  quant::QuantizedWeights qw;
  std::vector<uint16_t> wt;  // F16 W^T
  std::vector<float> bias;

  explicit Problem(uint32_t seed = 1, int rows = 24, int in = 256, int out = 80) : T(rows), K(in), N(out) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0, 1);
    x.resize(size_t(T) * size_t(K));
    for (auto& v : x) v = nd(rng);
    for (int t = 0; t < T; ++t)
      for (int k : outlier_channels) x[size_t(t) * size_t(K) + size_t(k)] = 60.0f + 10.0f * nd(rng);
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < K; ++k) {
        bool out = std::find(outlier_channels.begin(), outlier_channels.end(), k) != outlier_channels.end();
        if (!out) clip = std::max(clip, std::fabs(x[size_t(t) * size_t(K) + size_t(k)]));
      }
    w.resize(size_t(N) * size_t(K));
    for (auto& v : w) v = 0.05f * nd(rng);
    bias.resize(size_t(N));
    for (auto& v : bias) v = 0.1f * nd(rng);
    qw = quant::quantize_weights(w.data(), N, K, true);
    wt.resize(w.size());
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k)
        wt[size_t(k) * size_t(N) + size_t(n)] = float_to_half(w[size_t(n) * size_t(K) + size_t(k)]);
  }

  Int8LinearSpec spec(bool shadow, std::vector<int32_t> hot) const {
    Int8LinearSpec s;
    s.in = K;
    s.out = N;
    s.weight = qw.q.data();
    s.weight_scales = qw.scales.data();
    s.per_channel = true;
    s.bias = bias.data();
    s.act_scale = clip * 1.001f / 127.0f;  // just above the largest ordinary value
    s.shadow = shadow;
    s.hot_channels = hot;
    hot_rows_.clear();
    for (int32_t k : hot)
      hot_rows_.insert(hot_rows_.end(), wt.begin() + long(size_t(k) * size_t(N)),
                       wt.begin() + long(size_t(k + 1) * size_t(N)));
    s.hot_rows = hot_rows_.data();
    return s;
  }

  std::vector<float> reference(int rows) const {
    std::vector<float> y(size_t(rows) * size_t(N));
    kernels::float_gemm_reference(x.data(), rows, size_t(K), w.data(), N, K, y.data(), size_t(N), bias.data(),
                                  false);
    return y;
  }

  mutable std::vector<uint16_t> hot_rows_;
};

std::vector<float> run(const Int8Linear& op, const Problem& p, int rows) {
  std::vector<float> y(size_t(rows) * size_t(p.N), 0.0f);
  op.forward(p.x.data(), rows, size_t(p.K), y.data(), size_t(p.N), false, nullptr);
  return y;
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i]));
    den += double(b[i]) * double(b[i]);
  }
  return std::sqrt(num / den);
}

TEST(Int8Linear, ShadowPathRecoversOutlierChannels) {
  Problem p;
  const auto ref = p.reference(p.T);
  Int8Linear with(p.spec(true, {5, 77}));
  Int8Linear without(p.spec(false, {5, 77}));
  const double e_with = relative_error(run(with, p, p.T), ref);
  const double e_without = relative_error(run(without, p, p.T), ref);
  EXPECT_LT(e_with, 0.01);
  EXPECT_GT(e_without, 0.3);
  const auto c = with.counters();
  EXPECT_EQ(c.outliers, uint64_t(p.T) * 3);  // every row, every outlier channel
  EXPECT_EQ(c.hot_rows, 2u);
  EXPECT_EQ(c.cold_rows, 1u);
}

// Rows far from calibration (here: every value 4x the clip, so every channel is an outlier) leave the
// shadow pass once they exceed the per-row budget and are recomputed with a dynamic scale: the float
// work stays bounded, accuracy stays at int8 level, and in-budget rows are untouched. Sizes that do not
// divide the kernels' tiles (T 21, K 200, N 75), with a residual and on a thread pool.
TEST(Int8Linear, RowsBeyondTheShadowBudgetFallBackToADynamicScale) {
  Problem p(11, 21, 250, 75);  // K > the planted outlier channels 5, 77, 200
  for (int t : {3, 4, 17})
    for (int k = 0; k < p.K; ++k) p.x[size_t(t) * size_t(p.K) + size_t(k)] *= 4.0f;
  const auto ref = p.reference(p.T);
  Int8Linear op(p.spec(true, {5, 77}));
  EXPECT_EQ(Int8Linear::default_row_entry_budget(p.K), 16);  // max(16, 250 / 32)
  ThreadPool pool(2);
  std::vector<float> residual(size_t(p.T) * size_t(p.N));
  for (size_t i = 0; i < residual.size(); ++i) residual[i] = float(i % 5) - 2.0f;
  auto forward = [&](ThreadPool* tp) {
    std::vector<float> y = residual;
    op.forward(p.x.data(), p.T, size_t(p.K), y.data(), size_t(p.N), true, tp);
    for (size_t i = 0; i < y.size(); ++i) y[i] -= residual[i];
    return y;
  };
  const auto bounded = forward(nullptr);
  EXPECT_EQ(op.counters().fallback_rows, 3u);
  EXPECT_EQ(forward(&pool), bounded);  // bit-identical for any thread count
  op.set_row_entry_budget(1 << 20);    // no bound: every outlier through the shadow pass
  const auto unbounded = forward(nullptr);
  EXPECT_EQ(op.counters().fallback_rows, 6u);  // unchanged by the unbounded call
  auto rows_error = [&](const std::vector<float>& y, int t) {
    double num = 0, den = 0;
    for (int n = 0; n < p.N; ++n) {
      const double d =
          double(y[size_t(t) * size_t(p.N) + size_t(n)]) - ref[size_t(t) * size_t(p.N) + size_t(n)];
      num += d * d;
      den += double(ref[size_t(t) * size_t(p.N) + size_t(n)]) * ref[size_t(t) * size_t(p.N) + size_t(n)];
    }
    return std::sqrt(num / den);
  };
  for (int t = 0; t < p.T; ++t) {
    const bool far = t == 3 || t == 4 || t == 17;
    if (far) {
      EXPECT_LT(rows_error(bounded, t), 0.03) << t;  // dynamic int8 over a 60x range
    } else {
      for (int n = 0; n < p.N; ++n)
        EXPECT_NEAR(bounded[size_t(t) * size_t(p.N) + size_t(n)],
                    unbounded[size_t(t) * size_t(p.N) + size_t(n)], 1e-4f)
            << t;
    }
    EXPECT_LT(rows_error(unbounded, t), 0.01) << t;
  }
  // Each far row has its own scale: its result does not depend on the other rows of the call (alone, it
  // takes the decode path, where its scale is the call's scale).
  op.set_row_entry_budget(0);
  for (int t : {3, 4, 17}) {
    std::vector<float> alone(residual.begin() + t * p.N, residual.begin() + (t + 1) * p.N);
    op.forward(p.x.data() + size_t(t) * size_t(p.K), 1, size_t(p.K), alone.data(), size_t(p.N), true,
               nullptr);
    for (int n = 0; n < p.N; ++n)
      EXPECT_NEAR(alone[size_t(n)] - residual[size_t(t * p.N + n)], bounded[size_t(t * p.N + n)], 1e-5f) << t;
  }
}

TEST(Int8Linear, ColdRowsAreTheInt8ColumnsDecodedPerCallOrResident) {
  Problem p(7);
  Int8Linear op(p.spec(true, {5, 77, 200}));  // hot rows: the float weights' columns in F16
  const auto hot = run(op, p, p.T);
  op.make_all_cold();
  EXPECT_EQ(op.resident_shadow_bytes(), 0u);
  const auto cold = run(op, p, p.T);
  op.make_all_resident();
  EXPECT_EQ(op.resident_shadow_bytes(), size_t(p.K) * size_t(p.N) * 2);
  EXPECT_EQ(run(op, p, p.T), cold);  // the same decoded columns, kept or made per call
  // A cold row is the int8 column times its scales: within weight quantization of the float column.
  EXPECT_LT(relative_error(cold, hot), 0.01);
  EXPECT_NE(cold, hot);
}

// The SIMD cold-row decode of this CPU (null: none).
using ShadowRowDecode = void (*)(const PackedInt8Matrix&, int, uint16_t*);
ShadowRowDecode simd_shadow_row_decode() {
#if defined(__x86_64__)
  if (cpu_features().avx512f && cpu_features().f16c) return int8_linear_detail::decode_shadow_row_avx512;
#elif defined(__aarch64__)
  if (cpu_features().neon) return int8_linear_detail::decode_shadow_row_neon;
#endif
  return nullptr;
}

TEST(Int8Linear, VectorColdRowDecodeEqualsTheScalarTwin) {
  const ShadowRowDecode decode = simd_shadow_row_decode();
  if (!decode) GTEST_SKIP() << "no SIMD cold-row decode on this CPU";
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> value(-127, 127);
  // N not a multiple of 16 or 64 (panel tails), K not a multiple of 4; scales from subnormal halves to
  // F16 overflow.
  for (const auto& [n, k] : {std::pair{1, 1}, {15, 5}, {17, 7}, {64, 4}, {100, 33}, {130, 9}, {1000, 6}}) {
    std::vector<int8_t> w(size_t(n) * size_t(k));
    for (auto& v : w) v = int8_t(value(rng));
    std::vector<float> scales(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) scales[size_t(i)] = std::ldexp(1.0f + float(i % 7) / 8, i % 40 - 32);
    const PackedInt8Matrix packed = pack_int8_weights(w.data(), n, k, scales.data(), true);
    std::vector<float> column(static_cast<size_t>(n));
    std::vector<uint16_t> scalar(static_cast<size_t>(n)), vector(static_cast<size_t>(n) + 16, 0xabcd);
    for (int c = 0; c < k; ++c) {
      unpack_int8_column(packed, c, column.data());
      for (int i = 0; i < n; ++i) scalar[size_t(i)] = float_to_half(column[size_t(i)]);
      decode(packed, c, vector.data());
      ASSERT_TRUE(std::equal(scalar.begin(), scalar.end(), vector.begin()))
          << n << "x" << k << " column " << c;
      EXPECT_EQ(vector[size_t(n)], 0xabcd) << "wrote past N";
    }
  }
}

TEST(Int8Linear, StreamingDecodeGemvEqualsTheScalarGemm) {
#if defined(__x86_64__)
  if (!cpu_features().has_avx512_vnni_path()) GTEST_SKIP() << "no streaming GEMV on this CPU";
#elif defined(__aarch64__)
  if (!cpu_features().dotprod) GTEST_SKIP() << "no streaming GEMV on this CPU";
#else
  GTEST_SKIP() << "no streaming GEMV on this CPU";
#endif
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> value(-127, 127);
  std::normal_distribution<float> nd(0, 1);
  // Partial 16-column vectors and panels; K with partial groups of 4 and of the 4-group loads.
  for (const auto& [n, k] : {std::pair{1, 1}, {17, 7}, {64, 4}, {100, 33}, {130, 18}, {200, 1001}}) {
    std::vector<int8_t> w(size_t(n) * size_t(k)), a(static_cast<size_t>(k));
    for (auto& v : w) v = int8_t(value(rng));
    for (auto& v : a) v = int8_t(value(rng));
    std::vector<float> scales(static_cast<size_t>(n)), bias(static_cast<size_t>(n)),
        residual(static_cast<size_t>(n));
    for (auto& v : scales) v = 0.001f + std::fabs(nd(rng)) * 0.01f;
    for (auto& v : bias) v = nd(rng);
    for (auto& v : residual) v = nd(rng);
    const PackedInt8Matrix packed = pack_int8_weights(w.data(), n, k, scales.data(), true);
    for (int form = 0; form < 3; ++form) {
      std::vector<float> want(static_cast<size_t>(n) + 4, -7.0f), got(want);
      Int8Epilogue ep;
      ep.ld_out = n;
      if (form >= 1) ep.bias = bias.data();
      if (form == 2) ep.residual = residual.data(), ep.ld_residual = n;
      ep.out_f32 = want.data();
      int8_gemm(a.data(), 1, k, packed, 0.0173f, ep, nullptr, Int8Kernel::Scalar);
      ep.out_f32 = got.data();
      const size_t padded = size_t(packed.k4) * 4 + 16;
#if defined(__x86_64__)
      std::vector<uint8_t> biased(padded);
      int8_linear_detail::gemv_operand_avx512(a.data(), k, padded, biased.data());
      int8_linear_detail::gemv_panels_avx512(biased.data(), packed, 0.0173f, ep, 0, packed.panels);
#elif defined(__aarch64__)
      std::vector<int8_t> copy(padded, 0);
      std::copy(a.begin(), a.end(), copy.begin());
      int8_linear_detail::gemv_panels_dotprod(copy.data(), packed, 0.0173f, ep, 0, packed.panels);
#endif
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)))
          << n << "x" << k << " form " << form;
    }
  }
}

TEST(Int8Linear, AccumulateAddsIntoOutput) {
  Problem p(3);
  Int8Linear op(p.spec(true, {}));
  const auto plain = run(op, p, p.T);
  std::vector<float> y(plain.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = float(i % 7) - 3.0f;
  const auto before = y;
  op.forward(p.x.data(), p.T, size_t(p.K), y.data(), size_t(p.N), true, nullptr);
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(y[i], plain[i] + before[i], 1e-4f * (1 + std::fabs(y[i])));
}

TEST(Int8Linear, DecodeKeepsTheShadowPathEvenWhenPruned) {
  Problem p(5);
  const auto ref = p.reference(1);
  Int8Linear pruned(p.spec(false, {5}));
  const auto decode = run(pruned, p, 1);
  EXPECT_LT(relative_error(decode, ref), 0.01);
  Int8Linear on(p.spec(true, {5}));
  const auto prefill = run(on, p, p.T);
  for (int n = 0; n < p.N; ++n) EXPECT_NEAR(decode[size_t(n)], prefill[size_t(n)], 1e-5f);
}

TEST(Int8Linear, DecodeRowEqualsTheSameRowOfPrefill) {
  // The one-row streaming kernel and the GEMM share the epilogue arithmetic: identical bits, with bias,
  // residual, a panel tail (N = 1000 is not a multiple of 64) and K not a multiple of 4.
  Problem p(19, 8, 258, 1000);
  Int8Linear op(p.spec(true, {5, 77}));
  ThreadPool pool(2);
  std::vector<float> all(size_t(p.T) * size_t(p.N));
  for (size_t i = 0; i < all.size(); ++i) all[i] = float(i % 13) * 0.25f;
  std::vector<float> rows = all;
  op.forward(p.x.data(), p.T, size_t(p.K), all.data(), size_t(p.N), true, &pool);
  for (int t = 0; t < p.T; ++t)
    op.forward(p.x.data() + size_t(t) * size_t(p.K), 1, size_t(p.K), rows.data() + size_t(t) * size_t(p.N),
               size_t(p.N), true, t % 2 ? &pool : nullptr);
  EXPECT_EQ(all, rows);
}

TEST(Int8Linear, DynamicDecodeRowScale) {
  Problem p(9);
  const auto ref = p.reference(1);
  Int8Linear op(p.spec(true, {}));
  op.set_decode_quant(DecodeQuant::DynamicRow);
  const auto y = run(op, p, 1);
  // One scale per row set by the outliers: correct on average, much coarser than static + shadow.
  const double e = relative_error(y, ref);
  EXPECT_LT(e, 0.2);
  EXPECT_GT(e, 0.005);
}

// Heavy-tailed weight rows: one large weight per row. Kept as sparse float outliers, the row scale only
// covers the rest; the shadow path's W^T then holds the rest too (the outliers see the float x).
void plant_weight_spikes(Problem& p, int per_row) {
  for (int n = 0; n < p.N; ++n) p.w[size_t(n) * size_t(p.K) + size_t((n * 37) % p.K)] = 2.0f;
  p.qw = quant::quantize_weights(p.w.data(), p.N, p.K, true, per_row);
  std::vector<float> rest = p.w;
  for (int32_t idx : p.qw.outlier_index) rest[size_t(idx)] = 0;
  for (int n = 0; n < p.N; ++n)
    for (int k = 0; k < p.K; ++k)
      p.wt[size_t(k) * size_t(p.N) + size_t(n)] = float_to_half(rest[size_t(n) * size_t(p.K) + size_t(k)]);
}

Int8LinearSpec with_weight_outliers(Int8LinearSpec s, const quant::QuantizedWeights& qw) {
  s.weight_outlier_index = qw.outlier_index.data();
  s.weight_outlier_value = qw.outlier_value.data();
  s.weight_outliers = qw.outlier_index.size();
  return s;
}

TEST(WeightQuant, OutliersLeaveTheInt8Matrix) {
  const std::vector<float> w{0.1f, -5.0f, 0.2f, -0.3f, /* row 1 */ 0.5f, 0.25f, 4.0f, -1.0f};
  const auto q = quant::quantize_weights(w.data(), 2, 4, true, 1);
  EXPECT_EQ(q.outlier_index, (std::vector<int32_t>{1, 6}));
  EXPECT_EQ(q.outlier_value, (std::vector<float>{-5.0f, 4.0f}));
  EXPECT_EQ(q.q[1], 0);
  EXPECT_EQ(q.q[6], 0);
  EXPECT_FLOAT_EQ(q.scales[0], 0.3f / 127.0f);
  EXPECT_FLOAT_EQ(q.scales[1], 1.0f / 127.0f);
  EXPECT_EQ(q.q[3], -127);
  EXPECT_EQ(quant::weight_outliers_per_row(0.02, 64), 1);
  EXPECT_EQ(quant::weight_outliers_per_row(0.02, 172), 3);
  EXPECT_EQ(quant::weight_outliers_per_row(0, 172), 0);
  EXPECT_THROW(quant::weight_outliers_per_row(1.5, 10), Error);
}

// quantize_weights works one row at a time; the matrix-wide definition (zero every row's largest
// entries, scale by the rest's max per row or per tensor, round) must give the same bytes.
TEST(WeightQuant, RowAtATimeEqualsTheWholeMatrixDefinition) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const auto& [N, K, per_row] : {std::tuple{7, 13, 2}, std::tuple{33, 65, 0}, std::tuple{5, 100, 3}}) {
    std::vector<float> w(size_t(N) * size_t(K));
    for (float& v : w) v = normal(rng);
    w[3] = 0;  // a zero among the largest is not an outlier entry
    for (bool per_channel : {true, false}) {
      const auto q = quant::quantize_weights(w.data(), N, K, per_channel, per_row);
      std::vector<float> rest = w;
      std::vector<int32_t> index;
      for (int n = 0; n < N; ++n) {
        std::vector<int32_t> order(static_cast<size_t>(K));
        std::iota(order.begin(), order.end(), 0);
        const float* row = w.data() + size_t(n) * size_t(K);
        std::stable_sort(order.begin(), order.end(),
                         [&](int32_t a, int32_t b) { return std::fabs(row[a]) > std::fabs(row[b]); });
        std::sort(order.begin(), order.begin() + per_row);
        for (int i = 0; i < per_row; ++i)
          if (row[order[size_t(i)]] != 0) {
            index.push_back(n * K + order[size_t(i)]);
            rest[size_t(index.back())] = 0;
          }
      }
      ASSERT_EQ(q.outlier_index, index);
      std::vector<float> scales;
      for (int n = 0; n < N; ++n) {
        float m = 0;
        for (int k = 0; k < K; ++k) m = std::max(m, std::fabs(rest[size_t(n) * size_t(K) + size_t(k)]));
        scales.push_back(m / 127.0f);
      }
      if (!per_channel) scales.assign(1, *std::max_element(scales.begin(), scales.end()));
      ASSERT_EQ(q.scales, scales);
      for (size_t i = 0; i < rest.size(); ++i) {
        const float s = scales[per_channel ? i / size_t(K) : 0];
        ASSERT_EQ(q.q[i], int8_t(std::clamp(std::nearbyint(rest[i] * (1.0f / s)), -127.0f, 127.0f))) << i;
      }
    }
  }
}

TEST(Int8Linear, WeightOutliersCutTheWeightError) {
  Problem plain(23), sparse(23);
  plant_weight_spikes(plain, 0);
  plant_weight_spikes(sparse, 1);
  const auto ref = sparse.reference(sparse.T);
  Int8Linear a(plain.spec(true, {5}));
  Int8Linear b(with_weight_outliers(sparse.spec(true, {5}), sparse.qw));
  EXPECT_EQ(b.weight_outlier_count(), size_t(sparse.N));
  EXPECT_EQ(b.resident_shadow_bytes(), size_t(sparse.N) * 2 + size_t(sparse.N) * 12);
  const double e_plain = relative_error(run(a, plain, plain.T), ref);
  const double e_sparse = relative_error(run(b, sparse, sparse.T), ref);
  EXPECT_LT(e_sparse, 0.01);
  EXPECT_GT(e_plain, 3 * e_sparse);
  // Decode (both quantizations) adds the same correction: each row as in prefill.
  std::vector<float> row(size_t(sparse.N), 0.0f);
  b.forward(sparse.x.data(), 1, size_t(sparse.K), row.data(), size_t(sparse.N), false, nullptr);
  EXPECT_LT(relative_error(row, std::vector<float>(ref.begin(), ref.begin() + sparse.N)), 0.01);
  b.set_decode_quant(DecodeQuant::DynamicRow);
  b.forward(sparse.x.data(), 1, size_t(sparse.K), row.data(), size_t(sparse.N), false, nullptr);
  EXPECT_LT(relative_error(row, std::vector<float>(ref.begin(), ref.begin() + sparse.N)), 0.2);
}

// forward_swiglu folds silu(gate) * up into the quantizer: bit-identical to computing h, then forward(),
// for prefill and decode rows, with and without threads; gate_up is left untouched. With weight outliers
// (which need h itself) it takes the two-step path.
TEST(Int8Linear, SwigluInputEqualsTheTwoStepPath) {
  Problem p(4, 37, 256, 80);
  Int8Linear op(p.spec(true, {5, 77}));
  const size_t ld = size_t(2 * p.K + 3);
  std::vector<float> gate_up(size_t(p.T) * ld);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(1, 0.2f);
  for (int t = 0; t < p.T; ++t)
    for (int k = 0; k < p.K; ++k) {
      gate_up[size_t(t) * ld + size_t(k)] = p.x[size_t(t) * size_t(p.K) + size_t(k)];
      gate_up[size_t(t) * ld + size_t(p.K + k)] = nd(rng);
    }
  std::vector<float> h(size_t(p.T) * size_t(p.K));
  for (int t = 0; t < p.T; ++t)
    kernels::silu_mul(gate_up.data() + size_t(t) * ld, gate_up.data() + size_t(t) * ld + size_t(p.K),
                      h.data() + size_t(t) * size_t(p.K), size_t(p.K));
  ThreadPool pool(2);
  for (int rows : {1, p.T})
    for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> want(size_t(rows) * size_t(p.N), 0.5f), got = want;
      op.forward(h.data(), rows, size_t(p.K), want.data(), size_t(p.N), true, tp);
      const std::vector<float> before = gate_up;
      op.forward_swiglu(gate_up.data(), rows, ld, got.data(), size_t(p.N), true, tp);
      EXPECT_EQ(got, want) << rows << " rows";
      EXPECT_EQ(gate_up, before);
    }
  EXPECT_GT(op.counters().outliers, 0u);
  EXPECT_EQ(op.counters().fallback_rows, 0u);

  // Rows far from calibration (beyond the shadow budget) are quantized with their own scale from h.
  for (int t : {2, 9, 30})
    for (int k = 0; k < p.K; ++k) {
      gate_up[size_t(t) * ld + size_t(k)] *= 8.0f;
      kernels::silu_mul(gate_up.data() + size_t(t) * ld, gate_up.data() + size_t(t) * ld + size_t(p.K),
                        h.data() + size_t(t) * size_t(p.K), size_t(p.K));
    }
  for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool}) {
    std::vector<float> want(size_t(p.T) * size_t(p.N), 0.5f), got = want;
    op.forward(h.data(), p.T, size_t(p.K), want.data(), size_t(p.N), true, tp);
    op.forward_swiglu(gate_up.data(), p.T, ld, got.data(), size_t(p.N), true, tp);
    EXPECT_EQ(got, want);
  }
  EXPECT_EQ(op.counters().fallback_rows, 12u);  // 3 rows, 4 calls

  plant_weight_spikes(p, 1);
  Int8Linear spiky(with_weight_outliers(p.spec(true, {}), p.qw));
  ASSERT_GT(spiky.weight_outlier_count(), 0u);
  std::vector<float> want(size_t(p.T) * size_t(p.N)), got = want;
  spiky.forward(h.data(), p.T, size_t(p.K), want.data(), size_t(p.N), false, &pool);
  spiky.forward_swiglu(gate_up.data(), p.T, ld, got.data(), size_t(p.N), false, &pool);
  EXPECT_EQ(got, want);
}

TEST(Int8Linear, ShadowPassIsTheSameOnAnyThreadCount) {
  // Large enough for the shadow pass to split rows over threads (entries x N >= 64k).
  Problem p(11, 96, 256, 1024);
  Int8Linear op(p.spec(true, {5, 200}));
  const auto one = run(op, p, p.T);
  ThreadPool pool(2);
  std::vector<float> two(one.size(), 0.0f);
  op.forward(p.x.data(), p.T, size_t(p.K), two.data(), size_t(p.N), false, &pool);
  EXPECT_EQ(one, two);
  EXPECT_LT(relative_error(one, p.reference(p.T)), 0.01);
}

TEST(Int8Linear, ShadowIsEachRowsEntriesSummedFromZeroThenAdded) {
  // y = (gemm + residual) + d, d[n] = fma(v_i, w_i[n], ...) chained from zero over the row's entries in
  // channel order: the contract both placements of the shadow work keep (inline and on the host).
  Problem p(13);
  Int8Linear shadow(p.spec(true, {77}));
  Int8Linear clipped(p.spec(false, {77}));
  auto y = run(clipped, p, p.T);
  const float s = shadow.act_scale();
  for (int t = 0; t < p.T; ++t) {
    std::vector<float> d(size_t(p.N), 0.0f);
    for (int k : p.outlier_channels) {
      const float v = p.x[size_t(t) * size_t(p.K) + size_t(k)];
      const float xs = v * (1.0f / s);
      if (std::fabs(xs) <= 127.0f) continue;
      const float value = v - (xs > 0 ? 127.0f : -127.0f) * s;
      for (int n = 0; n < p.N; ++n) {
        // Hot channel 77: its float column; cold ones: the int8 column times the row scales.
        const size_t i = size_t(n) * size_t(p.K) + size_t(k);
        const uint16_t w = k == 77 ? p.wt[size_t(k) * size_t(p.N) + size_t(n)]
                                   : float_to_half(float(p.qw.q[i]) * p.qw.scales[size_t(n)]);
        d[size_t(n)] = std::fma(value, half_to_float(w), d[size_t(n)]);
      }
    }
    for (int n = 0; n < p.N; ++n) y[size_t(t) * size_t(p.N) + size_t(n)] += d[size_t(n)];
  }
  EXPECT_EQ(run(shadow, p, p.T), y);
}

// A sink that runs every job on a thread of its own (as the host processor would), counting them.
class ThreadSink final : public ShadowSink {
 public:
  int post(std::function<void(ThreadPool*)> job, std::string) override {
    threads_.emplace_back([job] { job(nullptr); });
    return int(threads_.size()) - 1;
  }
  void join(int ticket, ThreadPool*) override { threads_[size_t(ticket)].join(); }
  size_t min_work() const override { return 0; }
  size_t posted() const { return threads_.size(); }

 private:
  std::vector<std::thread> threads_;
};

TEST(Int8Linear, ShadowOnAnotherThreadIsBitIdenticalToInline) {
  Problem p(19, 37, 250, 90);             // sizes off every vector width
  Int8Linear op(p.spec(true, {5, 200}));  // channel 77 cold: read from W^T
  ThreadPool pool(2);
  for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool})
    for (bool accumulate : {false, true}) {
      std::vector<float> inline_y(size_t(p.T) * size_t(p.N), 0.5f), placed_y = inline_y;
      op.forward(p.x.data(), p.T, size_t(p.K), inline_y.data(), size_t(p.N), accumulate, tp);
      ThreadSink sink;
      op.forward_placed(p.x.data(), p.T, size_t(p.K), placed_y.data(), size_t(p.N), accumulate, tp,
                        {&sink, "test"});
      EXPECT_EQ(sink.posted(), 1u);
      EXPECT_EQ(inline_y, placed_y) << "accumulate " << accumulate;
    }
  EXPECT_GT(op.counters().placed_calls, 0u);
  // The fused SwiGLU input: silu(gate) * up quantized, the shadow pass placed the same way.
  const size_t ld = size_t(2 * p.K);
  std::vector<float> gate_up(size_t(p.T) * ld);
  for (int t = 0; t < p.T; ++t)
    for (int k = 0; k < 2 * p.K; ++k)
      gate_up[size_t(t) * ld + size_t(k)] =
          p.x[size_t(t) * size_t(p.K) + size_t(k % p.K)] * (k < p.K ? 1.0f : 0.7f);
  std::vector<float> a(size_t(p.T) * size_t(p.N), 0.0f), b = a;
  op.forward_swiglu(gate_up.data(), p.T, ld, a.data(), size_t(p.N), false, &pool);
  ThreadSink sink;
  op.forward_swiglu_placed(gate_up.data(), p.T, ld, b.data(), size_t(p.N), false, &pool, {&sink, "test"});
  EXPECT_EQ(a, b);
}

TEST(Int8Head, DecodeRowsRunInt8AndManyRowsRunFloat) {
  // A massive channel in the head input and in every weight row (tied embeddings carry it): per-block
  // scales on both sides keep the rest precise.
  Problem p(17, 6, 250, 300);
  std::vector<float> x(p.x), w(p.w);
  for (int t = 0; t < p.T; ++t) x[size_t(t) * size_t(p.K) + 40] = 300.0f;
  for (int n = 0; n < p.N; ++n) w[size_t(n) * size_t(p.K) + 100] = 5.0f;
  Int8Head head(w.data(), p.K, p.N);
  std::vector<float> ref(size_t(p.N) * size_t(p.T));
  kernels::float_gemm_reference(x.data(), p.T, size_t(p.K), w.data(), p.N, p.K, ref.data(), size_t(p.N),
                                nullptr, false);
  std::vector<float> one(size_t(p.N));
  head.forward(x.data(), 1, size_t(p.K), one.data(), size_t(p.N), false, nullptr);
  // (the block holding the massive input gives its other 31 inputs ~2 steps: most of the error)
  EXPECT_LT(relative_error(one, std::vector<float>(ref.begin(), ref.begin() + p.N)), 0.03);
  // Several int8 rows equal row-by-row runs, with or without threads, and accumulate adds.
  ThreadPool pool(2);
  head.set_int8_rows(p.T);
  std::vector<float> many(size_t(p.N) * size_t(p.T), 1.0f);
  head.forward(x.data(), p.T, size_t(p.K), many.data(), size_t(p.N), true, &pool);
  // The AVX-512 kernels sum the per-block products in the same order for one row and for many (equal
  // bits); the AVX2 and scalar families may order them differently (LLMNPU_ISA runs): float rounding only.
  const Int8Kernel kernel = best_int8_kernel();
  const bool same_order = kernel == Int8Kernel::Avx512Vnni || kernel == Int8Kernel::Amx;
  for (int t = 0; t < p.T; ++t) {
    head.forward(x.data() + size_t(t) * size_t(p.K), 1, size_t(p.K), one.data(), size_t(p.N), false, nullptr);
    for (int n = 0; n < p.N; ++n) {
      const float got = many[size_t(t) * size_t(p.N) + size_t(n)], want = one[size_t(n)] + 1.0f;
      if (same_order)
        EXPECT_EQ(got, want);
      else
        EXPECT_NEAR(got, want, 2e-4f * std::max(1.0f, std::fabs(want)));  // partial sums pass 300 x 5
    }
  }
  // Above int8_rows: fp32 on the head's F16 weights, converted 64 rows at a time.
  head.set_int8_rows(1);
  std::vector<float> w16(w.size());
  for (size_t i = 0; i < w.size(); ++i) w16[i] = half_to_float(float_to_half(w[i]));
  std::vector<float> f(size_t(p.N) * size_t(p.T)), g(f.size());
  head.forward(x.data(), p.T, size_t(p.K), f.data(), size_t(p.N), false, &pool);
  kernels::float_gemm_reference(x.data(), p.T, size_t(p.K), w16.data(), p.N, p.K, g.data(), size_t(p.N),
                                nullptr, false);
  for (size_t i = 0; i < f.size(); ++i) EXPECT_NEAR(f[i], g[i], 1e-4f * std::max(1.0f, std::fabs(g[i])));
  // Its rows are the F16 weights (the embedding rows of a tied model).
  std::vector<float> r(size_t(p.K));
  head.row(7, r.data());
  for (int k = 0; k < p.K; ++k) EXPECT_EQ(r[size_t(k)], w16[size_t(7 * p.K + k)]);
}

TEST(Int8Head, SimdKernelEqualsThePortableTwinOnOddShapes) {
  if (!Int8Head::has_int8_kernel()) GTEST_SKIP() << "no int8 head kernel on this CPU (fp32 head)";
  ThreadPool pool(3);
  uint32_t seed = 40;
  // K: partial groups of 4, partial and odd block counts; N: partial 16-column vectors and panels.
  for (auto [K, N] : {std::pair{70, 100}, {333, 65}, {256, 130}, {31, 17}, {1000, 200}, {4, 1}}) {
    std::mt19937 rng(seed++);
    std::normal_distribution<float> nd(0, 1);
    std::vector<float> w(size_t(N) * size_t(K)), x(static_cast<size_t>(K)), bias(static_cast<size_t>(N));
    for (auto& v : w) v = 0.05f * nd(rng);
    for (auto& v : x) v = nd(rng);
    for (auto& v : bias) v = nd(rng);
    x[size_t(K / 2)] = 300.0f;  // a massive channel: one block at a much larger scale
    for (int n = 0; n < N; ++n) w[size_t(n) * size_t(K)] = 2.0f;
    const Int8Head plain(w.data(), K, N), with_bias(w.data(), K, N, nullptr, bias.data());
    for (const Int8Head* head : {&plain, &with_bias}) {
      std::vector<float> want(static_cast<size_t>(N)), got(static_cast<size_t>(N)),
          threaded(static_cast<size_t>(N));
      head->forward_int8_reference(x.data(), want.data());
      head->forward(x.data(), 1, size_t(K), got.data(), size_t(N), false, nullptr);
      head->forward(x.data(), 1, size_t(K), threaded.data(), size_t(N), false, &pool);
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float))) << K << "x" << N;
      EXPECT_EQ(got, threaded) << K << "x" << N;
    }
    // accumulate: the kernel adds the residual after the row scale, as the twin's result plus y.
    std::vector<float> want(static_cast<size_t>(N)), y(static_cast<size_t>(N));
    plain.forward_int8_reference(x.data(), want.data());
    for (int n = 0; n < N; ++n) y[size_t(n)] = float(n % 7) - 3.0f;
    for (int n = 0; n < N; ++n) want[size_t(n)] = want[size_t(n)] + y[size_t(n)];
    plain.forward(x.data(), 1, size_t(K), y.data(), size_t(N), true, nullptr);
    EXPECT_EQ(0, std::memcmp(y.data(), want.data(), y.size() * sizeof(float))) << K << "x" << N;
  }
}

TEST(Int8Head, EdgeRowsZeroTinyAndSubnormalBlockScales) {
  const int K = 64, N = 16;
  std::vector<float> w(size_t(N) * K, 0.0f);
  // Row 0: block 0 at 3.0, block 1 at 2^-22 (exact in F16, as the head's weights are): its scale is
  // ~1.33 F16 subnormal steps of the row's largest, which F16 rounds down to 1 step; unless the fraction
  // is rounded up, its largest weight clips at 127 steps (a 25% error).
  const float tiny = std::ldexp(1.0f, -22);
  for (int k = 0; k < 32; ++k) w[size_t(k)] = 3.0f;
  for (int k = 32; k < 64; ++k) w[size_t(k)] = tiny;
  // Row 1 all zero; row 2 far below 1 / FLT_MAX steps (1 / scale overflows); the rest ordinary.
  for (int k = 0; k < K; ++k) w[size_t(2 * K + k)] = 1e-38f;
  for (int n = 3; n < N; ++n)
    for (int k = 0; k < K; ++k) w[size_t(n * K + k)] = float((n * 7 + k * 3) % 11 - 5) * 0.1f;
  Int8Head head(w.data(), K, N);
  std::vector<float> x(static_cast<size_t>(K), 0.0f), y(static_cast<size_t>(N));
  x[32] = 1.0f;  // reads block 1 alone
  head.forward(x.data(), 1, size_t(K), y.data(), size_t(N), false, nullptr);
  EXPECT_NEAR(y[0], tiny, tiny * 0.02f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_TRUE(std::isfinite(y[2]));
  EXPECT_LE(std::fabs(y[2]), 1e-37f);
  for (int n = 3; n < N; ++n) EXPECT_NEAR(y[size_t(n)], w[size_t(n * K + 32)], 0.01f) << n;
  // Non-finite weights are refused.
  for (float bad : {std::nanf(""), INFINITY}) {
    std::vector<float> v(w);
    v[size_t(5 * K + 40)] = bad;
    EXPECT_THROW(Int8Head(v.data(), K, N), Error);
  }
}

TEST(Int8Linear, RejectsBadSpecs) {
  Problem p;
  Int8LinearSpec s = p.spec(true, {5});
  s.act_scale = 0;
  EXPECT_THROW(Int8Linear{s}, Error);
  s = p.spec(true, {5, 5});
  EXPECT_THROW(Int8Linear{s}, Error);
  s = p.spec(true, {});
  s.hot_channels = {int32_t(p.K)};
  EXPECT_THROW(Int8Linear{s}, Error);
  // Weight outliers: indices must be increasing and inside the matrix, values finite.
  const std::vector<float> values{0.5f, 0.25f};
  for (const std::vector<int32_t>& idx : {std::vector<int32_t>{7, 7}, std::vector<int32_t>{9, 3},
                                          std::vector<int32_t>{0, p.K * p.N}, std::vector<int32_t>{-1, 2}}) {
    s = p.spec(true, {});
    s.weight_outlier_index = idx.data();
    s.weight_outlier_value = values.data();
    s.weight_outliers = 2;
    EXPECT_THROW(Int8Linear{s}, Error) << idx[0] << "," << idx[1];
  }
  const std::vector<int32_t> ok{3, 9};
  const std::vector<float> nan{0.5f, std::nanf("")};
  s.weight_outlier_index = ok.data();
  s.weight_outlier_value = nan.data();
  EXPECT_THROW(Int8Linear{s}, Error);
  s.weight_outlier_value = values.data();
  EXPECT_NO_THROW(Int8Linear{s});
}

}  // namespace
}  // namespace llmnpu
