#pragma once
// Measures this machine's multiply-accumulate peak (GMAC/s) with hand-written instruction loops:
// many independent accumulator chains of one instruction, nothing else, timed on the wall clock.
// Benchmarks divide achieved rates by these to print "percent of peak".
namespace llmnpu {

enum class PeakKind {
  Int8Dot,  // vpdpbusd (AVX-512 VNNI zmm, else AVX-VNNI ymm): 4 u8*s8 products per int32 lane
  Fp32Fma,  // vfmadd231ps (zmm if AVX-512, else ymm): 1 product per fp32 lane
};

// Wall: elapsed time from the common start to the last thread's end (what a user of the machine gets).
// ThreadCpu: each thread's own CPU time (what the core does while it runs; not lowered by other processes
// sharing the cores, for comparing with CPU-time measurements on a busy machine).
enum class PeakClock { Wall, ThreadCpu };

// Total GMAC/s of `threads` threads running the loop at the same time (thread i pinned to CPU i when
// possible). Returns 0 when the CPU has no such instruction. seconds: time per trial (best of 3 trials).
double measure_peak_gmacs(PeakKind kind, int threads, double seconds = 0.1,
                          PeakClock clock = PeakClock::Wall);

// Same, measured once per (kind, threads, clock) in this process and remembered.
double peak_gmacs(PeakKind kind, int threads, PeakClock clock = PeakClock::Wall);

// Which instruction the probe uses here, e.g. "vpdpbusd zmm" (or "none").
const char* peak_instruction(PeakKind kind);

}  // namespace llmnpu
