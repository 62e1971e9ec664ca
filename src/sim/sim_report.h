#pragma once
// The runs `llmnpu sim` makes, as library calls: a sweep of schedules x topologies in virtual time, the
// validation rows re-predicted with a profile calibrated on them, and both as JSON.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/validate.h"
#include "sim/virtual_prefill.h"
#include "sim/workload.h"

namespace llmnpu::sim {

// "all" or one of sequential, pipeline, ooo; throws Error naming the choices.
std::vector<SchedulePolicy> parse_policies(const std::string& name);
// "all" (heterogeneous, then homogeneous), "hetero" or "homo", as homogeneous flags.
std::vector<bool> parse_topologies(const std::string& name);
const char* topology_name(bool homogeneous);

struct SweepOptions {
  int prompt_tokens = 1024;
  int chunk_len = 256;
  double shadow_entries_per_row = 1.7;
  std::vector<SchedulePolicy> policies;
  std::vector<bool> topologies;  // homogeneous?
};
// Throws Error when one simulation of this workload would exceed kMaxSimulatedTasks subgraph runs.
void check_sweep_size(const Workload& workload, int prompt_tokens, int chunk_len);
// One simulation per (topology, policy), in that order. trace: only with one of each.
std::vector<SimResult> simulate_sweep(const Workload& workload, const DeviceProfile& device,
                                      const SweepOptions& options, Trace* trace = nullptr);

// The profile with the rates the first validation row of each topology shows (calibrate_profile), named
// DEVICE-calibrated, and every row predicted again with it.
struct Calibration {
  DeviceProfile profile;
  std::vector<double> predicted_seconds;  // one per row
};
Calibration calibrate_on_rows(const Workload& workload, const DeviceProfile& device,
                              const std::vector<ValidationRow>& rows, int prompt_tokens, int chunk_len);

nlohmann::json sim_result_json(const SimResult& result);
nlohmann::json sweep_json(const Workload& workload, const DeviceProfile& device, int chunk_len,
                          const std::vector<SimResult>& results);
// calibration: null when no calibrated profile was made.
nlohmann::json validation_json(const DeviceProfile& device, const std::vector<ValidationRow>& rows,
                               const Calibration* calibration);

}  // namespace llmnpu::sim
