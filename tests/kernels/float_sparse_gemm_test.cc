// Shadow outlier GEMM: the three weight access forms against the plain reference.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/float_isa.h"
#include "kernels/sparse_gemm.h"

namespace llmnpu::kernels {
namespace {

TEST(SparseOutlierGemm, AllFormsMatchReference) {
  ThreadPool pool(2);
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int N : {1, 7, 33, 257, 2000}) {
    const int M = 5, K = 40;
    const size_t ldw = size_t(K) + 1, ldy = size_t(N) + 3;
    std::vector<float> w(size_t(N) * ldw), wt(size_t(K) * N), y0(size_t(M) * ldy);
    for (float& v : w) v = dist(rng);
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) wt[size_t(k) * N + n] = w[size_t(n) * ldw + k];
    for (float& v : y0) v = dist(rng);
    // Sorted by row then channel; row 2 has none, row 4 has many.
    std::vector<OutlierEntry> list = {{0, 3, 5.0f}, {0, 39, -2.5f}, {1, 0, 8.0f}, {3, 17, 1.5f}};
    for (int k = 0; k < K; k += 3) list.push_back({4, k, dist(rng) * 10});
    std::vector<const float*> rows;
    for (const OutlierEntry& e : list) rows.push_back(wt.data() + size_t(e.channel) * N);

    std::vector<float> want = y0;
    sparse_outlier_gemm_reference(list.data(), list.size(), w.data(), ldw, N, want.data(), ldy);
    for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
      std::vector<float> a = y0, b = y0, c = y0;
      sparse_outlier_gemm(list.data(), list.size(), rows.data(), N, a.data(), ldy, p);
      sparse_outlier_gemm_transposed(list.data(), list.size(), wt.data(), size_t(N), N, b.data(), ldy, p);
      sparse_outlier_gemm_strided(list.data(), list.size(), w.data(), ldw, N, c.data(), ldy, p);
      SCOPED_TRACE(testing::Message() << "N=" << N << " threaded=" << (p != nullptr));
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(a[i], want[i], 1e-5) << i;
        ASSERT_NEAR(c[i], want[i], 2e-5) << i;
      }
      ASSERT_EQ(a, b);
    }
  }
}

TEST(SparseOutlierGemm, EmptyListLeavesOutput) {
  std::vector<float> y = {1, 2, 3};
  sparse_outlier_gemm(nullptr, 0, nullptr, 3, y.data(), 3);
  sparse_outlier_gemm_strided(nullptr, 0, nullptr, 0, 3, y.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{1, 2, 3}));
}

}  // namespace
}  // namespace llmnpu::kernels
