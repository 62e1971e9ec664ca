#include "kernels/peak_probe.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/peak_probe_internal.h"

namespace llmnpu {
namespace {

using Loop = uint64_t (*)(uint64_t);

Loop loop_for(PeakKind kind) {
  const CpuFeatures& f = cpu_features();
#if defined(__x86_64__)
  if (kind == PeakKind::Int8Dot) {
    if (f.has_avx512_vnni_path()) return peak_detail::int8_dot_zmm;
    if (f.avx2 && f.avx_vnni) return peak_detail::int8_dot_ymm;
    return nullptr;
  }
  if (f.avx512f) return peak_detail::fp32_fma_zmm;
  if (f.avx2 && f.fma) return peak_detail::fp32_fma_ymm;
#elif defined(__aarch64__)
  if (kind == PeakKind::Int8Dot) return f.dotprod ? peak_detail::int8_dot_sdot : nullptr;
  if (f.neon) return peak_detail::fp32_fma_neon;
#endif
  return nullptr;
}

// Every loop runs on its own fresh thread (thread t pinned to CPU t when possible, so the caller's
// affinity is untouched); they start together on a flag and the clock stops when the last one ends.
double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Returns the wall time of the run; cpu_rate_sum receives sum over threads of 1 / (own CPU seconds).
double timed_run(Loop loop, int threads, uint64_t iterations, double* cpu_rate_sum) {
  std::atomic<int> ready{0};
  std::vector<double> cpu(size_t(threads), 0.0);
  std::atomic<bool> go{false};
  const int cpus = ThreadPool::hardware_threads();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      if (t < cpus) pin_current_thread(t);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      const double begin = thread_cpu_seconds();
      loop(iterations);
      cpu[size_t(t)] = thread_cpu_seconds() - begin;
    });
  while (ready.load() != threads) std::this_thread::yield();
  const double start = now_seconds();
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  const double wall = now_seconds() - start;
  *cpu_rate_sum = 0.0;
  for (double c : cpu) *cpu_rate_sum += 1.0 / std::max(c, 1e-9);
  return wall;
}

}  // namespace

const char* peak_instruction(PeakKind kind) {
  Loop loop = loop_for(kind);
#if defined(__x86_64__)
  if (loop == peak_detail::int8_dot_zmm) return "vpdpbusd zmm";
  if (loop == peak_detail::int8_dot_ymm) return "vpdpbusd ymm (AVX-VNNI)";
  if (loop == peak_detail::fp32_fma_zmm) return "vfmadd231ps zmm";
  if (loop == peak_detail::fp32_fma_ymm) return "vfmadd231ps ymm";
#elif defined(__aarch64__)
  if (loop == peak_detail::int8_dot_sdot) return "sdot v.4s";
  if (loop == peak_detail::fp32_fma_neon) return "fmla v.4s";
#endif
  return "none";
}

double measure_peak_gmacs(PeakKind kind, int threads, double seconds, PeakClock clock) {
  Loop loop = loop_for(kind);
  if (!loop || threads < 1) return 0.0;
  const uint64_t macs_per_iteration = loop(1);
  // Calibrate on one thread (also warms the vector unit up to its steady clock).
  uint64_t iterations = 1 << 16;
  for (;;) {
    const double start = now_seconds();
    loop(iterations);
    const double took = now_seconds() - start;
    if (took > std::min(0.02, seconds / 2) || iterations > (uint64_t(1) << 40)) {
      iterations = std::max<uint64_t>(1, uint64_t(double(iterations) * seconds / std::max(took, 1e-9)));
      break;
    }
    iterations *= 4;
  }
  double best = 0.0;
  for (int trial = 0; trial < 3; ++trial) {
    double cpu_rate_sum = 0.0;
    const double took = timed_run(loop, threads, iterations, &cpu_rate_sum);
    const double per_thread = double(macs_per_iteration) * double(iterations) * 1e-9;
    best = std::max(best, clock == PeakClock::Wall ? per_thread * threads / took : per_thread * cpu_rate_sum);
  }
  return best;
}

double peak_gmacs(PeakKind kind, int threads, PeakClock clock) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int, int>, double> cache;
  std::lock_guard lock(mutex);
  auto key = std::make_tuple(int(kind), threads, int(clock));
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  return cache[key] = measure_peak_gmacs(kind, threads, 0.1, clock);
}

}  // namespace llmnpu
