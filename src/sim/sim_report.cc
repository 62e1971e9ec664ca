#include "sim/sim_report.h"

#include <algorithm>

#include "backend/float_graph.h"
#include "core/error.h"

namespace llmnpu::sim {

using nlohmann::json;

std::vector<SchedulePolicy> parse_policies(const std::string& name) {
  if (name == "all")
    return {SchedulePolicy::Sequential, SchedulePolicy::Pipeline, SchedulePolicy::OutOfOrder};
  return {parse_schedule_policy(name)};
}

std::vector<bool> parse_topologies(const std::string& name) {
  if (name == "all") return {false, true};
  if (name == "hetero") return {false};
  if (name == "homo") return {true};
  fail("unknown topology '", name, "' (hetero, homo, all)");
}

const char* topology_name(bool homogeneous) { return homogeneous ? "homogeneous" : "heterogeneous"; }

void check_sweep_size(const Workload& workload, int prompt_tokens, int chunk_len) {
  SimOptions o;
  o.prompt_tokens = prompt_tokens;
  o.chunk_len = chunk_len;
  check_simulation_size(o, build_chunk_subgraphs(workload.config, workload.quantized).size());
}

std::vector<SimResult> simulate_sweep(const Workload& workload, const DeviceProfile& device,
                                      const SweepOptions& options, Trace* trace) {
  check(trace == nullptr || (options.policies.size() == 1 && options.topologies.size() == 1),
        "--trace needs one --schedule and one --topology");
  const auto subgraphs = build_chunk_subgraphs(workload.config, workload.quantized);
  std::vector<SimResult> results;
  for (bool homogeneous : options.topologies)
    for (SchedulePolicy policy : options.policies) {
      SimOptions o;
      o.prompt_tokens = options.prompt_tokens;
      o.chunk_len = options.chunk_len;
      o.policy = policy;
      o.homogeneous = homogeneous;
      o.shadow_entries_per_row = options.shadow_entries_per_row;
      check_simulation_size(o, subgraphs.size());
      results.push_back(simulate_prefill(workload.config, subgraphs, device, o, trace));
    }
  return results;
}

Calibration calibrate_on_rows(const Workload& workload, const DeviceProfile& device,
                              const std::vector<ValidationRow>& rows, int prompt_tokens, int chunk_len) {
  Calibration c;
  c.profile = device;
  std::vector<bool> done;
  for (const auto& r : rows)
    if (std::find(done.begin(), done.end(), r.homogeneous) == done.end()) {
      c.profile = calibrate_profile(c.profile, r, workload.graph->quantized);
      done.push_back(r.homogeneous);
    }
  c.profile.name = device.name + "-calibrated";
  for (const auto& r : rows) {
    SimOptions so;
    so.prompt_tokens = prompt_tokens;
    so.chunk_len = chunk_len;
    so.policy = r.policy;
    so.homogeneous = r.homogeneous;
    so.context = r.predicted.chunks * chunk_len;
    c.predicted_seconds.push_back(
        simulate_prefill(workload.config, workload.graph->chunk_subgraphs, c.profile, so).seconds);
  }
  return c;
}

json sim_result_json(const SimResult& r) {
  json lanes = json::array();
  for (const auto& l : r.lanes) {
    json lane = {{"name", l.name},
                 {"busy_s", l.busy_s},
                 {"busy_share", l.busy_share},
                 {"bubble_share", l.bubble_share}};
    if (r.has_energy) lane["energy_j"] = l.energy_j;
    lanes.push_back(lane);
  }
  json j = {{"topology", topology_name(r.homogeneous)},
            {"schedule", schedule_policy_name(r.policy)},
            {"prompt_tokens", r.prompt_tokens},
            {"chunks", r.chunks},
            {"subgraph_runs", r.tasks},
            {"seconds", r.seconds},
            {"tokens_per_second", r.tokens_per_second},
            {"processors", lanes}};
  if (r.has_energy) {
    j["energy_j"] = r.energy_j;
    j["energy_per_token_j"] = r.energy_per_token_j;
  }
  return j;
}

json sweep_json(const Workload& workload, const DeviceProfile& device, int chunk_len,
                const std::vector<SimResult>& results) {
  json out = json::array();
  for (const auto& r : results) out.push_back(sim_result_json(r));
  return {{"device", device.name},
          {"model", workload.label},
          {"quantized", workload.quantized},
          {"chunk", chunk_len},
          {"results", out}};
}

json validation_json(const DeviceProfile& device, const std::vector<ValidationRow>& rows,
                     const Calibration* calibration) {
  json out = json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const ValidationRow& r = rows[i];
    json measured = json::array();
    for (const auto& l : r.measured_lanes)
      measured.push_back({{"name", l.name}, {"busy_share", l.busy_share}, {"bubble_share", l.bubble_share}});
    json ops = json::array();
    for (const auto& op : r.ops)
      ops.push_back({{"op", op.op}, {"predicted_s", op.predicted_s}, {"measured_s", op.measured_s}});
    out.push_back({{"predicted", sim_result_json(r.predicted)},
                   {"subgraph_seconds", ops},
                   {"measured_seconds", r.measured_s},
                   {"measured_processors", measured}});
    if (calibration) out.back()["calibrated_predicted_seconds"] = calibration->predicted_seconds[i];
  }
  return {{"device", device.name}, {"validation", out}};
}

}  // namespace llmnpu::sim
