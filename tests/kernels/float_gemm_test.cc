// fp32 GEMM / GEMV against the double-accumulating reference, on every instruction set this CPU has.
#include "kernels/float_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels {
namespace {

std::vector<const detail::FloatIsa*> available_isas() { return detail::float_isas_available(); }

struct ForceIsa {
  explicit ForceIsa(const detail::FloatIsa* isa) { detail::force_float_isa(isa); }
  ~ForceIsa() { detail::force_float_isa(nullptr); }
};

std::vector<float> random_vector(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, int K, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  const double tol = 2e-6 * std::sqrt(double(K) + 1.0);
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::fabs(want[i]))) << what << " at " << i;
}

struct Shape {
  int M, N, K;
};

TEST(FloatGemm, MatchesReferenceOnAwkwardShapesStridesAndModes) {
  const int sizes[] = {1, 7, 33, 257};
  ThreadPool pool(2);
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (int M : sizes)
      for (int N : sizes)
        for (int K : sizes) {
          for (int mode = 0; mode < 3; ++mode) {  // plain, bias, bias + accumulate
            const bool use_bias = mode >= 1, accumulate = mode == 2;
            // Odd strides and an offset of one float: no alignment anywhere.
            const size_t ldx = size_t(K) + 3, ldy = size_t(N) + 5;
            auto xbuf = random_vector(size_t(M) * ldx + 1, 1 + M);
            auto wbuf = random_vector(size_t(N) * K + 1, 2 + N);
            auto bias = random_vector(size_t(N), 3);
            auto y0 = random_vector(size_t(M) * ldy + 1, 4);
            const float* x = xbuf.data() + 1;
            const float* w = wbuf.data() + 1;
            std::vector<float> want = y0, got = y0, got_threaded = y0;
            float_gemm_reference(x, M, ldx, w, N, K, want.data() + 1, ldy, use_bias ? bias.data() : nullptr,
                                 accumulate);
            float_gemm(x, M, ldx, w, N, K, got.data() + 1, ldy, use_bias ? bias.data() : nullptr, accumulate);
            float_gemm(x, M, ldx, w, N, K, got_threaded.data() + 1, ldy, use_bias ? bias.data() : nullptr,
                       accumulate, &pool);
            SCOPED_TRACE(testing::Message()
                         << isa->name << " M=" << M << " N=" << N << " K=" << K << " mode=" << mode);
            expect_close(got, want, K, "single");
            ASSERT_EQ(got, got_threaded) << "threaded result differs";
          }
        }
  }
}

TEST(FloatGemm, LargeShapeAndWideRowsSplitAcrossThreads) {
  // Bigger than one K block and one N block; M split path (N small) and N split path.
  const Shape shapes[] = {{300, 40, 600}, {70, 700, 520}};
  ThreadPool pool(2);
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (Shape s : shapes) {
      auto x = random_vector(size_t(s.M) * s.K, 5), w = random_vector(size_t(s.N) * s.K, 6);
      std::vector<float> want(size_t(s.M) * s.N), got(want.size()), got_threaded(want.size());
      float_gemm_reference(x.data(), s.M, s.K, w.data(), s.N, s.K, want.data(), s.N, nullptr, false);
      float_gemm(x.data(), s.M, s.K, w.data(), s.N, s.K, got.data(), s.N, nullptr, false);
      float_gemm(x.data(), s.M, s.K, w.data(), s.N, s.K, got_threaded.data(), s.N, nullptr, false, &pool);
      SCOPED_TRACE(isa->name);
      expect_close(got, want, s.K, "large");
      ASSERT_EQ(got, got_threaded);
    }
  }
}

TEST(FloatGemm, EmptySizes) {
  std::vector<float> y = {7, 8}, bias = {1, 2};
  float_gemm(nullptr, 0, 0, nullptr, 2, 4, y.data(), 2, nullptr, false);
  EXPECT_EQ(y, (std::vector<float>{7, 8}));
  float_gemm(nullptr, 3, 0, nullptr, 0, 4, y.data(), 0, nullptr, false);
  EXPECT_EQ(y, (std::vector<float>{7, 8}));
  // K == 0: the product is empty, Y = bias (or += bias).
  std::vector<float> y2 = {7, 8, 9, 10};
  float_gemm(nullptr, 2, 0, nullptr, 2, 0, y2.data(), 2, bias.data(), false);
  EXPECT_EQ(y2, (std::vector<float>{1, 2, 1, 2}));
  float_gemm(nullptr, 2, 0, nullptr, 2, 0, y2.data(), 2, bias.data(), true);
  EXPECT_EQ(y2, (std::vector<float>{2, 4, 2, 4}));
  float_gemv(nullptr, nullptr, 2, 0, y.data(), nullptr, false);
  EXPECT_EQ(y, (std::vector<float>{0, 0}));
}

TEST(FloatGemv, MatchesReferenceAndThreadedIsIdentical) {
  ThreadPool pool(2);
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (int N : {1, 7, 33, 257, 1000})
      for (int K : {1, 7, 33, 257, 896}) {
        auto x = random_vector(size_t(K) + 1, 7), w = random_vector(size_t(N) * K, 8),
             bias = random_vector(N, 9);
        auto y0 = random_vector(size_t(N), 10);
        std::vector<float> want = y0, got = y0, got_threaded = y0;
        float_gemm_reference(x.data() + 1, 1, K, w.data(), N, K, want.data(), N, bias.data(), true);
        float_gemv(x.data() + 1, w.data(), N, K, got.data(), bias.data(), true);
        float_gemm(x.data() + 1, 1, K, w.data(), N, K, got_threaded.data(), N, bias.data(), true, &pool);
        SCOPED_TRACE(testing::Message() << isa->name << " N=" << N << " K=" << K);
        expect_close(got, want, K, "gemv");
        ASSERT_EQ(got, got_threaded);
      }
  }
}

TEST(FloatGemm, IsaPackMatchesPlainPack) {
  // The ISA's (vectorized) W packing must give exactly the portable layout, padding included.
  for (const detail::FloatIsa* isa : available_isas())
    for (int n : {1, 15, 16, 17, 33, 64, 70})
      for (int k : {1, 15, 16, 17, 40}) {
        const int ldw = 83, n0 = 3, k0 = 5;
        auto w = random_vector(size_t(n0 + n) * ldw, 11);
        std::vector<float> want(detail::packed_size(n, k, isa->panel), -1.0f), got = want;
        detail::pack_b_from_nk(w.data(), ldw, n0, n, k0, k, isa->panel, want.data());
        isa->pack_b_nk(w.data(), ldw, n0, n, k0, k, isa->panel, got.data());
        ASSERT_EQ(got, want) << isa->name << " n=" << n << " k=" << k;
      }
}

TEST(FloatGemm, PackedInitEqualsInitThenAccumulate) {
  // gemm_packed_init(bias, load_c) must round exactly like "C (+)= bias, then C += A·B".
  const int M = 17, N = 45, K = 37;
  for (const detail::FloatIsa* isa : available_isas()) {
    if (!isa->gemm_packed_init) continue;
    auto a = random_vector(size_t(M) * K, 12), w = random_vector(size_t(N) * K, 13);
    auto bias = random_vector(size_t(N), 14), c0 = random_vector(size_t(M) * N, 15);
    std::vector<float> packed(detail::packed_size(N, K, isa->panel));
    detail::pack_b_from_nk(w.data(), K, 0, N, 0, K, isa->panel, packed.data());
    for (int mode = 0; mode < 4; ++mode) {
      const bool load_c = mode & 1;
      const float* b = mode & 2 ? bias.data() : nullptr;
      std::vector<float> want = c0, got = c0;
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          float& c = want[size_t(m) * N + n];
          c = (load_c ? c : 0.0f) + (b ? b[n] : 0.0f);
        }
      isa->gemm_packed(a.data(), K, packed.data(), M, N, K, want.data(), N);
      isa->gemm_packed_init(a.data(), K, packed.data(), M, N, K, got.data(), N, b, load_c);
      ASSERT_EQ(got, want) << isa->name << " mode " << mode;
    }
  }
}

TEST(FloatGemm, RejectsNegativeSizes) {
  EXPECT_THROW(float_gemm(nullptr, -1, 0, nullptr, 1, 1, nullptr, 0, nullptr, false), Error);
}

}  // namespace
}  // namespace llmnpu::kernels

namespace llmnpu::kernels {
namespace {

// The row kernels of decode attention (and of the GEMV), straight: rows that do not fill the 16-row and
// 4-row blocks, head dims on and off the vector width, strided rows.
TEST(FloatRowKernels, GemvRowsAndWeightedRowSumMatchDoubleSums) {
  for (const detail::FloatIsa* isa : available_isas()) {
    for (int K : {1, 16, 37, 64, 80, 128, 129, 300}) {
      for (int rows : {1, 3, 15, 16, 17, 33, 50}) {
        const size_t ld = size_t(K) + 7;
        auto w = random_vector(size_t(rows) * ld, uint32_t(K * 100 + rows));
        auto x = random_vector(size_t(K), uint32_t(K + rows + 1));
        std::vector<float> y(static_cast<size_t>(rows)), want(static_cast<size_t>(rows));
        for (int r = 0; r < rows; ++r) {
          double s = 0;
          for (int k = 0; k < K; ++k) s += double(w[size_t(r) * ld + size_t(k)]) * x[size_t(k)];
          want[size_t(r)] = float(s);
        }
        isa->gemv_rows(w.data(), ld, x.data(), K, rows, y.data());
        expect_close(y, want, K, isa->name);
        if (!isa->weighted_row_sum) continue;
        // out[c] += sum_j p[j] * w[j][c] (accumulates into what is there).
        auto p = random_vector(size_t(rows), uint32_t(rows * 3 + K));
        std::vector<float> out(static_cast<size_t>(K), 0.5f), expect(static_cast<size_t>(K));
        for (int c = 0; c < K; ++c) {
          double s = 0.5;
          for (int j = 0; j < rows; ++j) s += double(p[size_t(j)]) * w[size_t(j) * ld + size_t(c)];
          expect[size_t(c)] = float(s);
        }
        isa->weighted_row_sum(p.data(), rows, w.data(), ld, K, out.data());
        expect_close(out, expect, rows, isa->name);
      }
    }
  }
}

}  // namespace
}  // namespace llmnpu::kernels
