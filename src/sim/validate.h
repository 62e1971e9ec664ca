#pragma once
// The simulator against the real runner: the same model, policies and topologies run by ChunkedPrefill
// on this machine, next to the simulator's prediction from a device profile (normally this machine's).
#include <functional>
#include <string>
#include <vector>

#include "graph/model_graph.h"
#include "model/model.h"
#include "runtime/trace.h"
#include "sim/virtual_prefill.h"

namespace llmnpu::sim {

struct ValidationOptions {
  int prompt_tokens = 512;
  int chunk_len = 128;
  std::vector<SchedulePolicy> policies = {SchedulePolicy::Sequential, SchedulePolicy::Pipeline,
                                          SchedulePolicy::OutOfOrder};
  std::vector<bool> topologies = {false, true};  // homogeneous?
  int homogeneous_threads = 0;                   // 0 = every core
  int repeat = 1;                                // real runs per case; the fastest counts
  std::function<void(const std::string&)> progress;
};

// Time spent in one kind of subgraph (qkv, attn, omlp, head), summed over the run.
struct OpTime {
  std::string op;
  double predicted_s = 0;
  double measured_s = 0;
};

struct ValidationRow {
  bool homogeneous = false;
  SchedulePolicy policy = SchedulePolicy::OutOfOrder;
  SimResult predicted;
  double measured_s = 0;                    // wall time of ChunkedPrefill::run (fastest repeat)
  std::vector<LaneSummary> measured_lanes;  // of that run's trace
  std::vector<OpTime> ops;                  // where the prediction is off
};

// Runs each (topology, policy) case for real (one warm-up run first) and in virtual time. The real
// runner's latency model is seeded with the cost model's predictions, like the simulator's.
std::vector<ValidationRow> validate_against_runner(const Model& model, const ModelGraph& graph,
                                                   const DeviceProfile& device,
                                                   const ValidationOptions& options);

// The device profile with the rates a measured run shows: for the processor(s) of row's topology, the
// linear subgraphs' rate (int8 if quantized, else float) and the attention rate scaled by predicted /
// measured time of those subgraphs. The head (a memory-bound GEMV of one row) is left out.
DeviceProfile calibrate_profile(const DeviceProfile& device, const ValidationRow& row, bool quantized);

}  // namespace llmnpu::sim
