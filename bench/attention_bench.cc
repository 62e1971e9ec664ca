// Causal attention, qwen2.5-0.5b heads (14 query heads, 2 kv heads, head_dim 64): a 256-token prefill
// chunk at the end of a KV of 256..4096 positions, and decode (T = 1). GMAC/s counts the causal
// multiply-accumulates of Q·K^T and P·V; the fraction is against the fp32 FMA peak measured by
// kernels/peak_probe (per core x threads used).
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/peak_probe.h"

namespace {

using namespace llmnpu;

constexpr int kHeads = 14, kKvHeads = 2, kHeadDim = 64;

// CPU time of the calling thread: on a shared machine the wall clock also counts other processes' turns.
double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

std::vector<float> random_vector(size_t n) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// args: T, kv_len, threads
void BM_Attention(benchmark::State& state) {
  const int T = int(state.range(0)), kv_len = int(state.range(1)), threads = int(state.range(2));
  const int q_start = kv_len - T;
  auto q = random_vector(size_t(T) * kHeads * kHeadDim);
  auto k = random_vector(size_t(kKvHeads) * kv_len * kHeadDim), v = random_vector(k.size());
  std::vector<float> out(q.size());
  kernels::AttentionArgs a;
  a.q = q.data(), a.q_row_stride = size_t(kHeads) * kHeadDim, a.T = T, a.q_start = q_start;
  a.k = k.data(), a.v = v.data(), a.kv_pos_stride = kHeadDim, a.kv_head_stride = size_t(kv_len) * kHeadDim;
  a.n_heads = kHeads, a.n_kv_heads = kKvHeads, a.head_dim = kHeadDim;
  a.out = out.data(), a.out_row_stride = size_t(kHeads) * kHeadDim;
  std::unique_ptr<ThreadPool> pool = threads > 1 ? std::make_unique<ThreadPool>(threads) : nullptr;
  auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  for (auto _ : state) {
    kernels::causal_attention(a, pool.get());
    benchmark::DoNotOptimize(out.data());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = thread_cpu_seconds() - cpu_start;
  // Query t sees q_start + t + 1 keys; each key costs head_dim MACs for the score and head_dim for P·V.
  double keys = 0;
  for (int t = 0; t < T; ++t) keys += q_start + t + 1;
  const double macs = keys * kHeads * kHeadDim * 2;
  const double peak = peak_gmacs(PeakKind::Fp32Fma, 1) * threads;
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GMAC/s"] = peak;
  // Per core: the main thread's rate per second of its own CPU time (threads split work evenly).
  state.counters["GMAC/cpu_s_per_thread"] = macs * double(state.iterations()) / threads / cpu_seconds * 1e-9;
  state.counters["%peak"] = 100.0 * macs * double(state.iterations()) / seconds * 1e-9 / peak;
}

void cases(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    for (int kv : {256, 512, 1024, 2048, 4096}) b->Args({256, kv, threads});
    for (int kv : {256, 1024, 4096}) b->Args({1, kv, threads});
  }
  b->ArgNames({"T", "kv", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_Attention)->Apply(cases);

}  // namespace

BENCHMARK_MAIN();
