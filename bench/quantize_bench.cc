// Quantize-with-outlier-extraction throughput (GB/s of fp32 input read + int8 written) on activation
// shapes of the two reference models, with heavy-tailed values (about 0.5% outliers at the chosen scale).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "kernels/quantize_outliers.h"

namespace {

void BM_QuantizeWithOutliers(benchmark::State& state) {
  const int m = int(state.range(0)), k = int(state.range(1));
  const bool reference = state.range(2) != 0;
  std::mt19937 rng(7);
  std::student_t_distribution<float> heavy(3.0f);
  std::vector<float> x(size_t(m) * k);
  for (auto& v : x) v = heavy(rng);
  std::vector<int8_t> q(size_t(m) * k);
  std::vector<llmnpu::kernels::OutlierEntry> outliers;
  outliers.reserve(size_t(m) * k / 16);
  const float scale = 6.0f / 127.0f;  // clip at |x| = 6
  for (auto _ : state) {
    outliers.clear();
    if (reference)
      llmnpu::quantize_with_outliers_reference(x.data(), m, k, k, scale, q.data(), k, &outliers);
    else
      llmnpu::quantize_with_outliers(x.data(), m, k, k, scale, q.data(), k, &outliers);
    benchmark::DoNotOptimize(q.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * m * k * 5);
  state.counters["outlier_pct"] = 100.0 * double(outliers.size()) / (double(m) * k);
  state.SetLabel(reference ? "scalar" : "dispatched");
}

BENCHMARK(BM_QuantizeWithOutliers)
    ->ArgNames({"M", "K", "scalar"})
    ->ArgsProduct({{1, 256}, {896, 2048, 4864, 8192}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
