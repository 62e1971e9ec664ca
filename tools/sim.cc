// llmnpu sim: the chunked-prefill scheduler in virtual time from a device profile (docs/simulator.md);
// also measures this machine as a profile, and checks the simulator against real runs.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "command.h"
#include "core/error.h"
#include "flags.h"
#include "model/loader.h"
#include "model/synth.h"
#include "sim/device_profile.h"
#include "sim/machine_profile.h"
#include "sim/paper_shapes.h"
#include "sim/validate.h"
#include "sim/virtual_prefill.h"
#include "tokenizer/vocab.h"

namespace llmnpu::cli {
namespace {

using nlohmann::json;

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

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

std::vector<SchedulePolicy> resolve_policies(const std::string& name) {
  if (name == "all")
    return {SchedulePolicy::Sequential, SchedulePolicy::Pipeline, SchedulePolicy::OutOfOrder};
  return {parse_schedule_policy(name)};
}

std::vector<bool> resolve_topologies(const std::string& name) {
  if (name == "all") return {false, true};
  if (name == "hetero") return {false};
  if (name == "homo") return {true};
  fail("unknown topology '", name, "' (hetero, homo, all)");
}

const char* topology_name(bool homogeneous) { return homogeneous ? "homogeneous" : "heterogeneous"; }

std::string lanes_text(const std::vector<sim::SimLane>& lanes) {
  std::string s;
  for (const auto& l : lanes)
    s += str(" | ", l.name, ": busy ", fixed(100 * l.busy_share, 1), "% bubble ",
             fixed(100 * l.bubble_share, 1), "%");
  return s;
}

std::string lanes_text(const std::vector<LaneSummary>& lanes) {
  std::string s;
  for (const auto& l : lanes)
    s += str(" | ", l.name, ": busy ", fixed(100 * l.busy_share, 1), "% bubble ",
             fixed(100 * l.bubble_share, 1), "%");
  return s;
}

json result_json(const sim::SimResult& r) {
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

// What is simulated: a model's config and its per-chunk subgraphs.
struct Workload {
  std::unique_ptr<Model> model;  // only when loaded or synthesized (validation runs it)
  std::unique_ptr<ModelGraph> graph;
  ModelConfig config;
  bool quantized = false;
  std::string label;
};

Workload load_workload(const std::string& model_path, const std::string& shape, const std::string& format,
                       bool need_weights) {
  check(model_path.empty() != shape.empty(), "give one of -m MODEL or --shape NAME");
  Workload w;
  if (!model_path.empty()) {
    if (is_prepared_model(model_path)) {
      PreparedGraph p = load_prepared_model(model_path);
      w.model = std::move(p.model);
      w.graph = std::move(p.graph);
    } else {
      w.model = load_model(model_path);
      w.graph = std::make_unique<ModelGraph>(build_float_graph(*w.model));
    }
    w.config = w.model->config;
    w.quantized = w.graph->quantized;
    check(format == "auto" || !need_weights || (format == "w8a8") == w.quantized,
          "--format cannot change what a real run executes: ", model_path, " is ",
          w.quantized ? "w8a8" : "float");
    if (format != "auto") w.quantized = format == "w8a8";
    w.label = str(model_path, " (", w.config.name, ")");
  } else {
    w.config = sim::find_sim_shape(shape);
    w.quantized = format != "float";
    w.label = str("synthetic shape ", shape);
    if (need_weights) {
      check(format != "w8a8",
            "--validate on a synthetic shape runs its float model; for W8A8 give -m with a prepared file");
      SynthOptions so;
      so.shape = shape;
      w.model = synthesize_model(so, builtin_byte_vocab());
      w.graph = std::make_unique<ModelGraph>(build_float_graph(*w.model));
      w.quantized = false;
    }
  }
  return w;
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
  std::string shapes;
  for (const auto& s : synth_shapes()) shapes += (shapes.empty() ? "" : ", ") + s.name;
  for (const auto& s : sim::paper_shapes()) shapes += ", " + s.name + " (no --validate)";
  app.add_option("-m,--model", model_path, "model file (float or prepared W8A8): its config and format");
  app.add_option("--shape", shape, "synthetic shape instead of a model: " + shapes);
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
  auto policies = resolve_policies(schedule);
  auto topologies =
      resolve_topologies(validate && topology == "hetero" && !app.count("--topology") ? "all" : topology);
  Workload w = load_workload(model_path, shape, format, validate);
  sim::DeviceProfile device = resolve_profile(profile_name);
  auto subgraphs = build_chunk_subgraphs(w.config, w.quantized);
  {
    sim::SimOptions size_check;
    size_check.prompt_tokens = prompt;
    size_check.chunk_len = chunk;
    sim::check_simulation_size(size_check, subgraphs.size());
  }
  std::string header =
      str("device: ", device.name, (device.description.empty() ? "" : " - "), device.description,
          "\nmodel: ", w.label, ", ",
          w.quantized ? "w8a8 (qkv/omlp int8 on the accelerator)" : "float (every subgraph on the host)",
          ", prompt ", prompt, ", chunk ", chunk);

  if (validate) {
    check(trace_path.empty(), "--trace is not available with --validate");
    sim::ValidationOptions o;
    o.prompt_tokens = prompt;
    o.chunk_len = chunk;
    o.policies = policies;
    o.topologies = topologies;
    o.repeat = repeat;
    o.progress = progress;
    auto rows = sim::validate_against_runner(*w.model, *w.graph, device, o);
    // Calibration: each topology's first run sets its processors' rates; every run is predicted again.
    std::vector<double> calibrated(rows.size(), 0);
    if (!calibrate_path.empty()) {
      sim::DeviceProfile cal = device;
      std::vector<bool> done;
      for (const auto& r : rows)
        if (std::find(done.begin(), done.end(), r.homogeneous) == done.end()) {
          cal = sim::calibrate_profile(cal, r, w.graph->quantized);
          done.push_back(r.homogeneous);
        }
      cal.name = device.name + "-calibrated";
      sim::save_device_profile(cal, calibrate_path);
      std::fprintf(stderr, "wrote %s\n", calibrate_path.c_str());
      for (size_t i = 0; i < rows.size(); ++i) {
        sim::SimOptions so;
        so.prompt_tokens = prompt;
        so.chunk_len = chunk;
        so.policy = rows[i].policy;
        so.homogeneous = rows[i].homogeneous;
        so.context = rows[i].predicted.chunks * chunk;
        calibrated[i] = sim::simulate_prefill(w.config, w.graph->chunk_subgraphs, cal, so).seconds;
      }
    }
    if (as_json) {
      json out = json::array();
      for (const auto& r : rows) {
        json m = json::array();
        for (const auto& l : r.measured_lanes)
          m.push_back({{"name", l.name}, {"busy_share", l.busy_share}, {"bubble_share", l.bubble_share}});
        json ops = json::array();
        for (const auto& op : r.ops)
          ops.push_back({{"op", op.op}, {"predicted_s", op.predicted_s}, {"measured_s", op.measured_s}});
        out.push_back({{"predicted", result_json(r.predicted)},
                       {"subgraph_seconds", ops},
                       {"measured_seconds", r.measured_s},
                       {"measured_processors", m}});
        if (!calibrate_path.empty())
          out.back()["calibrated_predicted_seconds"] = calibrated[size_t(&r - rows.data())];
      }
      std::printf("%s\n", json{{"device", device.name}, {"validation", out}}.dump(2).c_str());
      return 0;
    }
    std::printf("%s\n", header.c_str());
    for (const auto& r : rows) {
      double err = 100 * (r.predicted.seconds - r.measured_s) / r.measured_s;
      std::printf("%-13s %-10s predicted %8.1f ms  measured %8.1f ms  (%+.1f%%)\n",
                  topology_name(r.homogeneous), schedule_policy_name(r.policy), 1e3 * r.predicted.seconds,
                  1e3 * r.measured_s, err);
      std::printf("    predicted%s\n    measured %s\n", lanes_text(r.predicted.lanes).c_str(),
                  lanes_text(r.measured_lanes).c_str());
      std::string ops;
      for (const auto& op : r.ops)
        ops += str(" | ", op.op, " ", fixed(1e3 * op.predicted_s, 1), " / ", fixed(1e3 * op.measured_s, 1),
                   " ms");
      std::printf("    subgraph time predicted / measured%s\n", ops.c_str());
      if (!calibrate_path.empty()) {
        double c = calibrated[size_t(&r - rows.data())];
        std::printf("    calibrated profile predicts %.1f ms (%+.1f%%)\n", 1e3 * c,
                    100 * (c - r.measured_s) / r.measured_s);
      }
    }
    return 0;
  }

  check(trace_path.empty() || (policies.size() == 1 && topologies.size() == 1),
        "--trace needs one --schedule and one --topology");
  json out = json::array();
  if (!as_json) std::printf("%s\n", header.c_str());
  for (bool homogeneous : topologies) {
    for (SchedulePolicy policy : policies) {
      sim::SimOptions o;
      o.prompt_tokens = prompt;
      o.chunk_len = chunk;
      o.policy = policy;
      o.homogeneous = homogeneous;
      o.shadow_entries_per_row = shadow_entries;
      Trace trace;
      sim::SimResult r = sim::simulate_prefill(w.config, subgraphs, device, o, &trace);
      if (!trace_path.empty()) trace.write_chrome_json(trace_path);
      if (as_json) {
        out.push_back(result_json(r));
        continue;
      }
      std::string energy = r.has_energy ? str("  ", fixed(1e3 * r.energy_per_token_j, 3), " mJ/token") : "";
      std::printf("%-13s %-10s %9.1f ms %9.1f tokens/s%s%s\n", topology_name(homogeneous),
                  schedule_policy_name(policy), 1e3 * r.seconds, r.tokens_per_second, energy.c_str(),
                  lanes_text(r.lanes).c_str());
    }
  }
  if (as_json)
    std::printf("%s\n", json{{"device", device.name},
                             {"model", w.label},
                             {"quantized", w.quantized},
                             {"chunk", chunk},
                             {"results", out}}
                            .dump(2)
                            .c_str());
  if (!trace_path.empty()) std::fprintf(stderr, "wrote %s\n", trace_path.c_str());
  return 0;
}

Register reg("sim", "simulate chunked prefill on a device profile (--profile phone|this-machine|FILE)",
             sim_command);

}  // namespace
}  // namespace llmnpu::cli
