#include "runtime/prefiller.h"

#include <algorithm>

#include "core/error.h"

namespace llmnpu {

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

Prefiller::Prefiller(Engine& engine, const PrefillSettings& settings, int total_threads)
    : engine_(engine), settings_(settings), policy_(parse_schedule_policy(settings_.schedule)) {
  // A chunk never holds more than the context (the default 256 on a small context shrinks to fit).
  settings_.chunk = std::min(settings_.chunk, engine.context());
  if (settings_.chunk <= 0) return;  // one chunk on the engine's own pool: no scheduler
  // --npu-threads / --cpu-threads ask for the heterogeneous topology unless another one is named.
  const bool split_given = settings_.npu_threads > 0 || settings_.cpu_threads > 0;
  const std::string topology = settings_.topology == "auto" && split_given && has_accelerator_work(engine)
                                   ? "hetero"
                                   : settings_.topology;
  if (topology == "homo" || (topology == "auto" && !has_accelerator_work(engine))) {
    runner_ = std::make_unique<ChunkedPrefill>(engine, homogeneous_topology(total_threads));
  } else if (topology == "hetero") {
    runner_ = std::make_unique<ChunkedPrefill>(
        engine, heterogeneous_topology(total_threads, settings_.npu_threads, settings_.cpu_threads));
  } else {
    // auto with integer subgraphs: a profiling prefill on each topology, keep the faster one together
    // with the latencies it measured. Each is preceded by a short one that touches the weights, the KV
    // cache and the topology's threads (2 chunks of kWarmupChunk tokens: a full-size warm-up doubled the
    // load time of a 7B model, 6.4 s per profile).
    constexpr int kWarmupChunk = 8;
    double best = 1e300;
    for (Topology t : {homogeneous_topology(total_threads),
                       heterogeneous_topology(total_threads, settings_.npu_threads, settings_.cpu_threads)}) {
      auto probe = std::make_unique<ChunkedPrefill>(engine, t);
      // One set of chunk buffers between the probes: two would only add to the peak.
      if (runner_) probe->adopt_buffers(runner_->take_buffers());
      probe->profile(std::min(settings_.chunk, kWarmupChunk), policy_);
      const double seconds = probe->profile(settings_.chunk, policy_);
      if (!runner_ || seconds < best) {
        best = seconds;
        runner_ = std::move(probe);
      } else {
        runner_->adopt_buffers(probe->take_buffers());
      }
    }
  }
  topology_ = runner_->topology();
  // ooo ranks subgraphs by their latencies, profiled here at load time and updated as chunks run.
  if (topology != "auto" && policy_ == SchedulePolicy::OutOfOrder && !topology_.homogeneous)
    runner_->profile(settings_.chunk, policy_);
}

std::vector<float> Prefiller::run(const std::vector<int32_t>& tokens, Trace* trace,
                                  const LogitsCallback& on_logits) {
  if (!runner_) return engine_.prefill(tokens, 0, on_logits, trace);
  PrefillPlan plan{settings_.chunk, policy_};
  plan.shadow_on_host = settings_.shadow == "host";
  return runner_->run(tokens, plan, trace, on_logits);
}

std::string Prefiller::describe() const {
  if (!runner_) return "one chunk, all cores (no scheduler)";
  return str("chunk ", settings_.chunk, ", ", schedule_policy_name(policy_), " schedule, ",
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

}  // namespace llmnpu
