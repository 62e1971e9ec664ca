#include "prefill_options.h"

#include <algorithm>

#include "core/error.h"
#include "flags.h"

namespace llmnpu::cli {

void PrefillOptions::add_to(CLI::App& app, bool with_trace) {
  app.add_option("--chunk", chunk, "prefill chunk length in tokens; 0 = whole prompt at once (default 256)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_option("--schedule", schedule, "subgraph scheduling: sequential, pipeline, ooo (default ooo)")
      ->check(CLI::IsMember({"sequential", "pipeline", "ooo"}));
  app.add_option("--topology", topology,
                 "processors: homo (all cores run every subgraph in turn), hetero (accelerator-role and "
                 "host-role processors run concurrently), auto (default: models with int8 subgraphs "
                 "measure both at load and keep the faster; float models run homo)")
      ->check(CLI::IsMember({"auto", "homo", "hetero"}));
  app.add_option("--npu-threads", npu_threads,
                 "hetero: threads of the accelerator role (int8 subgraphs); with --topology auto, "
                 "--npu-threads or --cpu-threads selects hetero")
      ->check(thread_count());
  app.add_option("--cpu-threads", cpu_threads, "hetero: threads of the host role (float subgraphs)")
      ->check(thread_count());
  app.add_option("--shadow", shadow,
                 "hetero: where int8 linears' float shadow work runs: host (the host-role processor, beside "
                 "the int8 GEMM; default) or inline (on the accelerator role's threads after the GEMM)")
      ->check(CLI::IsMember({"host", "inline"}));
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
  // A chunk never holds more than the context (the default 256 on a small context shrinks to fit).
  options_.chunk = std::min(options_.chunk, engine.context());
  if (options_.chunk <= 0) return;  // one chunk on the engine's own pool: no scheduler
  // --npu-threads / --cpu-threads ask for the heterogeneous topology unless another one is named.
  const bool split_given = options.npu_threads > 0 || options.cpu_threads > 0;
  const std::string topology =
      options.topology == "auto" && split_given && has_accelerator_work(engine) ? "hetero" : options.topology;
  if (topology == "homo" || (topology == "auto" && !has_accelerator_work(engine))) {
    runner_ = std::make_unique<ChunkedPrefill>(engine, homogeneous_topology(total_threads));
  } else if (topology == "hetero") {
    runner_ = std::make_unique<ChunkedPrefill>(
        engine, heterogeneous_topology(total_threads, options.npu_threads, options.cpu_threads));
  } else {
    // auto with integer subgraphs: a profiling prefill on each topology (the second of two: the first
    // touches the weights), keep the faster one together with the latencies it measured.
    double best = 1e300;
    for (Topology t : {homogeneous_topology(total_threads),
                       heterogeneous_topology(total_threads, options.npu_threads, options.cpu_threads)}) {
      auto probe = std::make_unique<ChunkedPrefill>(engine, t);
      probe->profile(options_.chunk, policy_);
      const double seconds = probe->profile(options_.chunk, policy_);
      if (!runner_ || seconds < best) {
        best = seconds;
        runner_ = std::move(probe);
      }
    }
  }
  topology_ = runner_->topology();
  // ooo ranks subgraphs by their latencies, profiled here at load time and updated as chunks run.
  if (topology != "auto" && policy_ == SchedulePolicy::OutOfOrder && !topology_.homogeneous)
    runner_->profile(options_.chunk, policy_);
}

std::vector<float> Prefiller::run(const std::vector<int32_t>& tokens, Trace* trace,
                                  const LogitsCallback& on_logits) {
  if (!runner_) return engine_.prefill(tokens, 0, on_logits, trace);
  PrefillPlan plan{options_.chunk, policy_};
  plan.shadow_on_host = options_.shadow == "host";
  return runner_->run(tokens, plan, trace, on_logits);
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
               int(lane.bubble_share * 1000) / 10.0, "%",
               lane.shadow > 0 ? str(", shadow work ", int(lane.shadow * 1e4) / 10.0, " ms") : std::string(),
               "\n");
  return out;
}

}  // namespace llmnpu::cli
