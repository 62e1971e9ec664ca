// This machine's multiply-accumulate peak per instruction kind and thread count (the denominators of
// every "percent of peak" counter).
#include <benchmark/benchmark.h>

#include "kernels/peak_probe.h"

namespace {

void BM_Peak(benchmark::State& state) {
  const auto kind = llmnpu::PeakKind(state.range(0));
  const int threads = int(state.range(1));
  const auto clock = llmnpu::PeakClock(state.range(2));  // 0 wall clock, 1 per-thread CPU time
  double gmacs = 0;
  for (auto _ : state) gmacs = llmnpu::measure_peak_gmacs(kind, threads, 0.1, clock);
  state.counters["GMAC/s"] = gmacs;
  state.counters["GMAC/s/core"] = gmacs / threads;
  state.SetLabel(llmnpu::peak_instruction(kind));
}

BENCHMARK(BM_Peak)
    ->ArgNames({"kind", "threads", "cpu_clock"})
    ->ArgsProduct({{int(llmnpu::PeakKind::Int8Dot), int(llmnpu::PeakKind::Fp32Fma)}, {1, 2}, {0, 1}})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
