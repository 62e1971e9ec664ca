// fp32 GEMM / GEMV on the qwen2.5-0.5b linear layer shapes. Reports GMAC/s and the fraction of the fp32
// FMA peak measured on this machine by kernels/peak_probe (per core x threads used).
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/float_gemm.h"
#include "kernels/peak_probe.h"

namespace {

using namespace llmnpu;

// CPU time of the calling thread: on a shared machine the wall clock also counts other processes' turns.
double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

std::vector<float> random_vector(size_t n) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// args: M, K, N, threads
void BM_FloatGemm(benchmark::State& state) {
  const int M = int(state.range(0)), K = int(state.range(1)), N = int(state.range(2));
  const int threads = int(state.range(3));
  auto x = random_vector(size_t(M) * K), w = random_vector(size_t(N) * K), bias = random_vector(size_t(N));
  std::vector<float> y(size_t(M) * N);
  std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
  auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  for (auto _ : state) {
    kernels::float_gemm(x.data(), M, size_t(K), w.data(), N, K, y.data(), size_t(N), bias.data(), false,
                        pool.get());
    benchmark::DoNotOptimize(y.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = thread_cpu_seconds() - cpu_start;
  const double macs = double(M) * N * K;
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s_weights"] =
      benchmark::Counter(double(N) * K * 4 * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = peak_gmacs(PeakKind::Fp32Fma, 1) * threads;
  state.counters["peak_GMAC/s"] = peak;
  // Per core: the main thread's rate per second of its own CPU time (threads split work evenly).
  state.counters["GMAC/cpu_s_per_thread"] = macs * double(state.iterations()) / threads / cpu_seconds * 1e-9;
  state.counters["%peak"] = 100.0 * macs * double(state.iterations()) / seconds * 1e-9 / peak;
}

void shapes(benchmark::internal::Benchmark* b) {
  const int kn[][2] = {{896, 1152}, {896, 896}, {896, 9728}, {4864, 896}};  // qkv, o, gate+up, down
  for (int threads : {1, 2})
    for (int M : {256, 1})
      for (auto& s : kn) b->Args({M, s[0], s[1], threads});
  b->ArgNames({"M", "K", "N", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_FloatGemm)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
