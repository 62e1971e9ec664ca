#pragma once
// Measures this machine as a device profile (`llmnpu sim --profile-this-machine`): the int8 GEMM, float
// GEMM and attention rates of one core (what each role gets in the heterogeneous 1+1 topology), the same
// on all cores (the homogeneous processor), and the runner's per-subgraph dispatch latency.
#include <functional>
#include <string>

#include "sim/device_profile.h"

namespace llmnpu::sim {

struct MachineProbeOptions {
  int m = 256, k = 896, n = 4864;  // GEMM shape: a chunk of qwen2.5-0.5b through its gate/up width
  int attention_rows = 256;        // one chunk of queries...
  int attention_q_start = 256;     // ...after one earlier chunk (keys 1..512)
  int n_heads = 14, n_kv_heads = 2, head_dim = 64;
  int homogeneous_threads = 0;                       // 0 = every core
  double min_seconds = 0.25;                         // per measurement
  std::function<void(const std::string&)> progress;  // optional: told what is being measured
};

DeviceProfile profile_this_machine(const MachineProbeOptions& options = {});

}  // namespace llmnpu::sim
