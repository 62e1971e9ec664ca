#include "prefill_options.h"

#include <algorithm>

#include "core/error.h"
#include "core/timer.h"

namespace llmnpu::cli {

void PrefillOptions::add_to(CLI::App& app, bool with_trace) {
  app.add_option("--chunk", chunk, "prefill chunk length in tokens; 0 = whole prompt at once (default 256)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--schedule", schedule, "subgraph scheduling: sequential, pipeline, ooo (default ooo)")
      ->check(CLI::IsMember({"sequential", "pipeline", "ooo"}));
  app.add_option("--topology", topology,
                 "processors: homo (all cores run every subgraph in turn), hetero (accelerator-role and "
                 "host-role processors run concurrently), auto (measure both, keep the faster; default)")
      ->check(CLI::IsMember({"auto", "homo", "hetero"}));
  app.add_option("--npu-threads", npu_threads, "hetero: threads of the accelerator role (int8 subgraphs)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cpu-threads", cpu_threads, "hetero: threads of the host role (float subgraphs)")
      ->check(CLI::NonNegativeNumber);
  if (with_trace)
    app.add_option("--trace", trace_path, "write a Chrome/Perfetto trace of the prefill to FILE.json");
}

Topology homogeneous_topology(int threads) {
  Topology t;
  t.homogeneous = true;
  t.threads = threads;
  return t;
}

Topology heterogeneous_topology(int threads, int npu, int cpu) {
  Topology t;
  t.homogeneous = false;
  int total = std::max(2, threads);
  t.npu_threads = npu > 0 ? npu : std::max(1, total / 2);
  t.cpu_threads = cpu > 0 ? cpu : std::max(1, total - t.npu_threads);
  return t;
}

static bool has_accelerator_work(const Engine& engine) {
  for (const auto& sg : engine.graph().chunk_subgraphs)
    if (sg.role == Role::Accelerator) return true;
  return false;
}

Prefiller::Prefiller(Engine& engine, const PrefillOptions& options, int total_threads)
    : engine_(engine), options_(options), policy_(parse_schedule_policy(options.schedule)) {
  if (options.chunk <= 0) return;  // one chunk on the engine's own pool: no scheduler
  if (options.topology == "homo" || (options.topology == "auto" && !has_accelerator_work(engine))) {
    topology_ = homogeneous_topology(total_threads);
  } else if (options.topology == "hetero") {
    topology_ = heterogeneous_topology(total_threads, options.npu_threads, options.cpu_threads);
  } else {
    // auto with integer subgraphs: a short trial of each topology, keep the faster.
    int trial_tokens = std::min(engine.context() - engine.position(), 2 * options.chunk);
    std::vector<int32_t> trial(size_t(std::max(trial_tokens, 1)));
    for (size_t i = 0; i < trial.size(); ++i)
      trial[i] = int32_t((i * 7919 + 11) % size_t(engine.config().vocab_size));
    double best = 1e300;
    int start = engine.position();
    for (Topology t : {homogeneous_topology(total_threads),
                       heterogeneous_topology(total_threads, options.npu_threads, options.cpu_threads)}) {
      ChunkedPrefill probe(engine, t);
      probe.run(trial, {options.chunk, policy_});  // warm-up: first touch of weights
      engine.commit_position(start);
      double t0 = now_seconds();
      probe.run(trial, {options.chunk, policy_});
      double dt = now_seconds() - t0;
      engine.commit_position(start);
      if (dt < best) {
        best = dt;
        topology_ = t;
      }
    }
  }
  runner_ = std::make_unique<ChunkedPrefill>(engine, topology_);
}

std::vector<float> Prefiller::run(const std::vector<int32_t>& tokens, Trace* trace,
                                  const LogitsCallback& on_logits) {
  if (!runner_) return engine_.prefill(tokens, 0, on_logits);
  return runner_->run(tokens, {options_.chunk, policy_}, trace, on_logits);
}

std::string Prefiller::describe() const {
  if (!runner_) return "one chunk, all cores (no scheduler)";
  return str("chunk ", options_.chunk, ", ", schedule_policy_name(policy_), " schedule, ",
             topology_.describe());
}

std::string format_lane_summary(const Trace& trace) {
  std::string out;
  for (const auto& lane : trace.summarize())
    out += str("  ", lane.name, ": busy ", int(lane.busy_share * 1000) / 10.0, "%, bubble ",
               int(lane.bubble_share * 1000) / 10.0, "%\n");
  return out;
}

}  // namespace llmnpu::cli
