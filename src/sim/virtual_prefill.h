#pragma once
// Chunked prefill in virtual time: the event loop of ChunkedPrefill::run (runtime/chunked_prefill.cc)
// with the same TaskGraph, pick_task and LatencyModel, but each subgraph "runs" for the time the cost
// model gives on its processor (+ launch, + sync when an input came from the other processor) instead of
// running kernels. The loop is kept structurally identical to the real one (dispatch to every free
// processor, then wait for the next completion); it lives here because the real loop is tied to threads.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/subgraph.h"
#include "model/config.h"
#include "runtime/schedule_policy.h"
#include "runtime/trace.h"
#include "sim/device_profile.h"

namespace llmnpu::sim {

// The most chunk x subgraph runs one simulation takes (each keeps a trace slice and a task record).
constexpr int64_t kMaxSimulatedTasks = int64_t(1) << 22;

struct SimOptions;
// Throws Error when options ask for more than kMaxSimulatedTasks subgraph runs.
void check_simulation_size(const SimOptions& options, size_t subgraphs);

struct SimOptions {
  int prompt_tokens = 1024;
  int chunk_len = 256;
  SchedulePolicy policy = SchedulePolicy::OutOfOrder;
  bool homogeneous = false;  // one processor (the profile's homogeneous one) runs every subgraph
  int context = 0;           // caps the rows the last chunk computes at the context end (0 = no cap)
  // Shadow work: outlier entries per token row and shadowed linear (each costs that linear's output
  // features in float MACs on the host, beside the accelerator's subgraph). Measured on wikitext with the
  // planted-outlier qwen2.5-0.5b shape: see docs/simulator.md.
  double shadow_entries_per_row = 1.7;
};

// A processor of the simulated topology, in the order the real runner makes them (make_processors).
struct SimProcessor {
  ProcessorProfile profile;
  ProcessorView view;
};
std::vector<SimProcessor> sim_processors(const DeviceProfile& device, bool homogeneous);

struct SimLane {
  std::string name;
  double busy_s = 0;
  double busy_share = 0;
  double bubble_share = 0;
  double energy_j = 0;
};

struct SimResult {
  SchedulePolicy policy = SchedulePolicy::OutOfOrder;
  bool homogeneous = false;
  int prompt_tokens = 0;
  int chunks = 0;
  int tasks = 0;
  double seconds = 0;  // makespan: first start to last end
  double tokens_per_second = 0;
  std::vector<SimLane> lanes;
  bool has_energy = false;  // every processor of the topology has busy_w and idle_w
  double energy_j = 0;
  double energy_per_token_j = 0;
};

// The latency model the runner would have after profiling at load time: every subgraph's isolated time
// (launch + compute) on the processor that runs its role, attention per chunk.
void seed_latency(LatencyModel& latency, const ModelConfig& config, const std::vector<Subgraph>& subgraphs,
                  const DeviceProfile& device, const SimOptions& options);

// Runs the prefill of options.prompt_tokens tokens in virtual time. subgraphs: the per-chunk list
// (build_chunk_subgraphs(config, quantized)). trace (optional) gets one slice per subgraph run.
// An accelerator subgraph with shadow ops hands their float work to the host, which runs it as soon as it
// is free; if the host cannot start it before the accelerator's own work ends, the accelerator does it
// itself where its profile has a float rate (as the runtime's shadow queue does), else it waits for the host.
SimResult simulate_prefill(const ModelConfig& config, const std::vector<Subgraph>& subgraphs,
                           const DeviceProfile& device, const SimOptions& options, Trace* trace = nullptr);

}  // namespace llmnpu::sim
