#pragma once
// What `bench` measures about this machine and process, as library calls: the memory-bandwidth and int8
// GEMM rooflines, peak resident memory (resettable per run), medians, and the linear MACs per token the
// int8 roofline counts.
#include <string>
#include <vector>

#include "model/config.h"

namespace llmnpu {

// Read bandwidth (GB/s) measured in a child process, so its 512 MiB buffer is not this process's peak
// memory. Call while the process has a single thread (fork). 0 when it cannot be measured.
double measure_bandwidth_in_child(int threads);
// The dispatched int8 GEMM (AMX where present) on a prefill-shaped problem (256 x 896 x 4864): GMAC/s
// of the fastest call within `seconds`.
double measure_int8_gemm_gmacs(int threads, double seconds);
// Linear-layer MACs per prompt token (attention and the output head left out).
double linear_macs_per_token(const ModelConfig& c);

double median(std::vector<double> v);
// The CPU's model name from /proc/cpuinfo ("AMD EPYC ..."); "unknown CPU" where it names none.
std::string cpu_model_name();
double peak_rss_mib();  // lifetime peak resident memory of this process
// Resets the resettable high-water mark (Linux VmHWM); false where unavailable.
bool reset_peak_rss();
double peak_rss_since_reset_mib();

}  // namespace llmnpu
