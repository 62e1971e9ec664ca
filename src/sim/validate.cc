#include "sim/validate.h"

#include <algorithm>

#include "core/error.h"
#include "core/timer.h"
#include "runtime/chunked_prefill.h"

namespace llmnpu::sim {

namespace {

// "L3.qkv" -> "qkv", "head" -> "head", "blk.3.down shadow" / "L3.omlp shadow" -> "shadow"
std::string op_of(const std::string& slice_name) {
  const std::string shadow = " shadow";
  if (slice_name.size() > shadow.size() && slice_name.ends_with(shadow)) return "shadow";
  auto dot = slice_name.find('.');
  return dot == std::string::npos ? slice_name : slice_name.substr(dot + 1);
}

OpTime& op_entry(std::vector<OpTime>& ops, const std::string& op) {
  for (auto& o : ops)
    if (o.op == op) return o;
  ops.push_back({op, 0, 0});
  return ops.back();
}

}  // namespace

std::vector<ValidationRow> validate_against_runner(const Model& model, const ModelGraph& graph,
                                                   const DeviceProfile& device, const ValidationOptions& o) {
  check(o.prompt_tokens > 0 && o.chunk_len > 0, "prompt and chunk length must be positive");
  check(o.repeat > 0, "repeat must be positive");
  const ModelConfig& config = model.config;
  const int chunks = (o.prompt_tokens + o.chunk_len - 1) / o.chunk_len;
  const int context = chunks * o.chunk_len;  // room for the padded rows of the last chunk
  std::vector<int32_t> tokens;
  for (int i = 0; i < o.prompt_tokens; ++i) tokens.push_back((i * 131 + 17) % config.vocab_size);
  auto say = [&](const std::string& s) {
    if (o.progress) o.progress(s);
  };

  std::vector<ValidationRow> rows;
  bool warmed = false;
  for (bool homogeneous : o.topologies) {
    Topology topo;
    topo.homogeneous = homogeneous;
    topo.threads = o.homogeneous_threads;
    topo.npu_threads = 1;
    topo.cpu_threads = 1;
    for (SchedulePolicy policy : o.policies) {
      SimOptions sim;
      sim.prompt_tokens = o.prompt_tokens;
      sim.chunk_len = o.chunk_len;
      sim.policy = policy;
      sim.homogeneous = homogeneous;
      sim.context = context;
      ValidationRow row;
      row.homogeneous = homogeneous;
      row.policy = policy;
      Trace predicted_trace;
      row.predicted = simulate_prefill(config, graph.chunk_subgraphs, device, sim, &predicted_trace);
      for (const auto& slice : predicted_trace.slices())
        op_entry(row.ops, op_of(slice.name)).predicted_s += slice.duration;

      Engine engine(model, graph, {1, context, nullptr});
      for (int run = warmed ? 0 : -1; run < o.repeat; ++run) {  // run -1: warm-up (page in the weights)
        say(str(run < 0 ? "warm-up: " : "", topo.describe(), ", ", schedule_policy_name(policy)));
        ChunkedPrefill runner(engine, topo);  // fresh latency model for every run, as the simulator's
        seed_latency(runner.latency(), config, graph.chunk_subgraphs, device, sim);
        engine.reset();
        Trace trace;
        double start = now_seconds();
        runner.run(tokens, {o.chunk_len, policy}, &trace);
        double seconds = now_seconds() - start;
        if (run < 0) continue;
        if (run == 0 || seconds < row.measured_s) {
          row.measured_s = seconds;
          row.measured_lanes = trace.summarize();
          for (auto& op : row.ops) op.measured_s = 0;
          for (const auto& slice : trace.slices())
            op_entry(row.ops, op_of(slice.name)).measured_s += slice.duration;
        }
      }
      warmed = true;
      rows.push_back(row);
    }
  }
  return rows;
}

DeviceProfile calibrate_profile(const DeviceProfile& device, const ValidationRow& row, bool quantized) {
  double linear_pred = 0, linear_meas = 0, attn_pred = 0, attn_meas = 0;
  for (const auto& op : row.ops) {
    if (op.op == "qkv" || op.op == "omlp") {
      linear_pred += op.predicted_s;
      linear_meas += op.measured_s;
    } else if (op.op == "attn") {
      attn_pred += op.predicted_s;
      attn_meas += op.measured_s;
    }
  }
  check(linear_meas > 0 && attn_meas > 0, "calibration needs a run with measured linear and attention time");
  DeviceProfile d = device;
  auto scale_linear = [&](ProcessorProfile& p) {
    (quantized ? p.int8_gmacs : p.float_gmacs) *= linear_pred / linear_meas;
  };
  auto scale_attention = [&](ProcessorProfile& p) {
    p.attention_gmacs = d.attention_gmacs(p) * attn_pred / attn_meas;
  };
  if (row.homogeneous) {
    check(d.homogeneous.has_value(), "device profile '", d.name, "' has no homogeneous processor");
    scale_linear(*d.homogeneous);
    scale_attention(*d.homogeneous);
  } else {
    scale_linear(quantized ? d.accelerator : d.host);
    scale_attention(d.host);
  }
  d.name = device.name + "-calibrated";
  d.notes.push_back(str("rates of the ", row.homogeneous ? "homogeneous" : "heterogeneous",
                        " processors calibrated on a measured ", schedule_policy_name(row.policy), " run (",
                        quantized ? "w8a8" : "float", " model): linear subgraphs x ",
                        linear_pred / linear_meas, ", attention x ", attn_pred / attn_meas));
  return d;
}

}  // namespace llmnpu::sim
