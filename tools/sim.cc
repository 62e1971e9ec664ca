// llmnpu sim: the chunked-prefill scheduler in virtual time from a device profile (docs/simulator.md);
// also measures this machine as a profile, and checks the simulator against real runs.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/error.h"
#include "core/printable.h"
#include "flags.h"
#include "sim/device_profile.h"
#include "sim/machine_profile.h"
#include "sim/sim_report.h"
#include "sim/validate.h"
#include "sim/workload.h"

namespace llmnpu::cli {
namespace {

void progress(const std::string& what) { std::fprintf(stderr, "  %s...\n", what.c_str()); }

sim::DeviceProfile resolve_profile(const std::string& name) {
  if (name == "phone") return sim::phone_profile();
  if (name == "this-machine") {
    std::fprintf(stderr, "measuring this machine (llmnpu sim --profile-this-machine -o FILE keeps it):\n");
    sim::MachineProbeOptions o;
    o.progress = progress;
    return sim::profile_this_machine(o);
  }
  return sim::load_device_profile(name);
}

template <typename Lane>
std::string lanes_text(const std::vector<Lane>& lanes) {
  std::string s;
  for (const auto& l : lanes)
    s += str(" | ", l.name, ": busy ", fixed(100 * l.busy_share, 1), "% bubble ",
             fixed(100 * l.bubble_share, 1), "%");
  return s;
}

void print_validation(const std::vector<sim::ValidationRow>& rows, const sim::Calibration* calibration) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const sim::ValidationRow& r = rows[i];
    double err = 100 * (r.predicted.seconds - r.measured_s) / r.measured_s;
    std::printf("%-13s %-10s predicted %8.1f ms  measured %8.1f ms  (%+.1f%%)\n",
                sim::topology_name(r.homogeneous), schedule_policy_name(r.policy), 1e3 * r.predicted.seconds,
                1e3 * r.measured_s, err);
    std::printf("    predicted%s\n    measured %s\n", lanes_text(r.predicted.lanes).c_str(),
                lanes_text(r.measured_lanes).c_str());
    std::string ops;
    for (const auto& op : r.ops)
      ops +=
          str(" | ", op.op, " ", fixed(1e3 * op.predicted_s, 1), " / ", fixed(1e3 * op.measured_s, 1), " ms");
    std::printf("    subgraph time predicted / measured%s\n", ops.c_str());
    if (calibration) {
      double c = calibration->predicted_seconds[i];
      std::printf("    calibrated profile predicts %.1f ms (%+.1f%%)\n", 1e3 * c,
                  100 * (c - r.measured_s) / r.measured_s);
    }
  }
}

int sim_command(int argc, char** argv) {
  CLI::App app{
      "Simulate chunked heterogeneous prefill in virtual time from a device profile "
      "(the same scheduler code as the real runner; docs/simulator.md)."};
  app.name(argv[0]);
  std::string model_path, shape, profile_name, schedule = "all", topology = "hetero", format = "auto";
  std::string trace_path, output_path, calibrate_path;
  int prompt = 1024, chunk = 256, repeat = 1;
  double shadow_entries = 1.7;
  bool as_json = false, measure = false, validate = false, dump = false;
  app.add_option("-m,--model", model_path, "model file (float or prepared W8A8): its config and format");
  app.add_option("--shape", shape, "synthetic shape instead of a model: " + sim::workload_shape_names());
  app.add_option("--profile", profile_name,
                 "device profile: a JSON file, 'phone' (built in), or 'this-machine' (measured now); default "
                 "phone, or this-machine with --validate");
  app.add_option("-p,--prompt", prompt, "prompt tokens (default 1024)")->check(integer_in(1, kMaxTokensFlag));
  app.add_option("--chunk", chunk, "chunk length (default 256)")->check(integer_in(1, kMaxTokensFlag));
  app.add_option("--shadow-entries", shadow_entries,
                 "outlier entries per token and int8 linear that the host's shadow work handles (default "
                 "1.7, measured on held-out text)")
      ->check(number_in(0.0, 1e6));
  app.add_option("--schedule", schedule, "all, sequential, pipeline or ooo (default all)");
  app.add_option("--topology", topology, "hetero, homo or all (default hetero; all with --validate)");
  app.add_option("--format", format,
                 "auto (from the model; w8a8 for --shape), w8a8 (qkv/omlp int8 on the accelerator) or float")
      ->check(CLI::IsMember({"auto", "w8a8", "float"}));
  app.add_flag("--json", as_json, "print JSON");
  app.add_option("--trace", trace_path,
                 "write the simulated run as Chrome/Perfetto trace events (one run only)");
  app.add_flag("--profile-this-machine", measure, "measure this machine and write its profile (-o FILE)");
  app.add_option("-o,--output", output_path, "where --profile-this-machine writes the profile");
  app.add_flag("--dump-profile", dump, "print the resolved --profile as JSON and stop");
  app.add_flag("--validate", validate, "run the real chunked prefill too and compare with the prediction");
  app.add_option("--calibrate", calibrate_path,
                 "--validate: write the profile with the rates the first run of each topology shows, and "
                 "predict the other runs with it");
  bool no_memory_check = false;
  app.add_flag("--no-memory-check", no_memory_check,
               "--validate: load the model even when it looks larger than the available memory");
  app.add_option("--repeat", repeat, "--validate: real runs per case, the fastest counts (default 1)")
      ->check(integer_in(1, 1000));
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  if (measure) {
    check(!output_path.empty(), "--profile-this-machine needs -o FILE.json");
    std::fprintf(stderr, "measuring this machine:\n");
    sim::MachineProbeOptions o;
    o.progress = progress;
    sim::DeviceProfile d = sim::profile_this_machine(o);
    sim::save_device_profile(d, output_path);
    std::printf("%s", sim::device_profile_to_json(d).c_str());
    std::fprintf(stderr, "wrote %s\n", output_path.c_str());
    return 0;
  }
  check(output_path.empty(), "-o is for --profile-this-machine (use --trace FILE for a trace)");
  if (profile_name.empty()) profile_name = validate ? "this-machine" : "phone";
  if (dump) {
    std::printf("%s", sim::device_profile_to_json(resolve_profile(profile_name)).c_str());
    return 0;
  }
  sim::SweepOptions sweep;
  sweep.prompt_tokens = prompt;
  sweep.chunk_len = chunk;
  sweep.shadow_entries_per_row = shadow_entries;
  sweep.policies = sim::parse_policies(schedule);
  sweep.topologies =
      sim::parse_topologies(validate && topology == "hetero" && !app.count("--topology") ? "all" : topology);
  check(trace_path.empty() || !validate, "--trace is not available with --validate");
  check(trace_path.empty() || (sweep.policies.size() == 1 && sweep.topologies.size() == 1),
        "--trace needs one --schedule and one --topology");
  const sim::Workload w = sim::load_workload(model_path, shape, format, validate, !no_memory_check);
  sim::check_sweep_size(w, prompt, chunk);
  const sim::DeviceProfile device = resolve_profile(profile_name);
  const std::string header =
      str("device: ", device.name, (device.description.empty() ? "" : " - "), device.description,
          "\nmodel: ", w.label, ", ",
          w.quantized ? "w8a8 (qkv/omlp int8 on the accelerator)" : "float (every subgraph on the host)",
          ", prompt ", prompt, ", chunk ", chunk);

  if (validate) {
    sim::ValidationOptions o;
    o.prompt_tokens = prompt;
    o.chunk_len = chunk;
    o.policies = sweep.policies;
    o.topologies = sweep.topologies;
    o.repeat = repeat;
    o.progress = progress;
    const auto rows = sim::validate_against_runner(*w.model, *w.graph, device, o);
    sim::Calibration calibration;
    if (!calibrate_path.empty()) {
      calibration = sim::calibrate_on_rows(w, device, rows, prompt, chunk);
      sim::save_device_profile(calibration.profile, calibrate_path);
      std::fprintf(stderr, "wrote %s\n", calibrate_path.c_str());
    }
    const sim::Calibration* calibrated = calibrate_path.empty() ? nullptr : &calibration;
    if (as_json) {
      std::printf("%s\n", sim::validation_json(device, rows, calibrated).dump(2).c_str());
      return 0;
    }
    std::printf("%s\n", header.c_str());
    print_validation(rows, calibrated);
    return 0;
  }

  Trace trace;
  const auto results = sim::simulate_sweep(w, device, sweep, trace_path.empty() ? nullptr : &trace);
  if (!trace_path.empty()) trace.write_chrome_json(trace_path);
  if (as_json) {
    std::printf("%s\n", sim::sweep_json(w, device, chunk, results).dump(2).c_str());
  } else {
    std::printf("%s\n", header.c_str());
    for (const auto& r : results) {
      std::string energy = r.has_energy ? str("  ", fixed(1e3 * r.energy_per_token_j, 3), " mJ/token") : "";
      std::printf("%-13s %-10s %9.1f ms %9.1f tokens/s%s%s\n", sim::topology_name(r.homogeneous),
                  schedule_policy_name(r.policy), 1e3 * r.seconds, r.tokens_per_second, energy.c_str(),
                  lanes_text(r.lanes).c_str());
    }
  }
  if (!trace_path.empty()) std::fprintf(stderr, "wrote %s\n", trace_path.c_str());
  return 0;
}

Register reg("sim", "simulate chunked prefill on a device profile (--profile phone|this-machine|FILE)",
             sim_command);

}  // namespace
}  // namespace llmnpu::cli
