#pragma once
// How prefill runs: one chunk on the engine's own pool, or chunks scheduled over processors in the
// homogeneous or heterogeneous topology (with `auto` measuring both at load and keeping the faster).
// Keeps its processors (threads) alive between calls.
#include <memory>
#include <string>
#include <vector>

#include "runtime/chunked_prefill.h"
#include "runtime/engine.h"

namespace llmnpu {

struct PrefillSettings {
  int chunk = 256;                // 0 = whole prompt as one chunk, on all cores (no scheduler)
  std::string schedule = "ooo";   // sequential | pipeline | ooo
  std::string topology = "auto";  // auto | homo | hetero
  int npu_threads = 0;            // heterogeneous: accelerator-role threads (0 = half the cores)
  int cpu_threads = 0;            // heterogeneous: host-role threads (0 = the rest)
  std::string shadow = "host";    // hetero: where int8 linears' shadow work runs: host | inline
};

class Prefiller {
 public:
  Prefiller(Engine& engine, const PrefillSettings& settings, int total_threads);

  // Appends tokens to the engine's KV cache; returns the last token's logits.
  std::vector<float> run(const std::vector<int32_t>& tokens, Trace* trace = nullptr,
                         const LogitsCallback& on_logits = nullptr);
  std::string describe() const;  // topology and policy, naming which processor does what
  const Topology& topology() const { return topology_; }
  bool chunked() const { return runner_ != nullptr; }
  // Where the last run's shadow work ran (zeros without a heterogeneous runner).
  ShadowQueue::Stats shadow_stats() const { return runner_ ? runner_->shadow_stats() : ShadowQueue::Stats{}; }

 private:
  Engine& engine_;
  PrefillSettings settings_;
  Topology topology_;
  SchedulePolicy policy_ = SchedulePolicy::OutOfOrder;
  std::unique_ptr<ChunkedPrefill> runner_;
};

// The topologies `auto` chooses between for this graph and thread count.
Topology homogeneous_topology(int threads);
Topology heterogeneous_topology(int threads, int npu_threads, int cpu_threads);

// One line per processor: busy and bubble shares.
std::string format_lane_summary(const Trace& trace);

}  // namespace llmnpu
