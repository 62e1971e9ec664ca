#include "runtime/schedule_policy.h"

#include "core/error.h"

namespace llmnpu {

SchedulePolicy parse_schedule_policy(const std::string& name) {
  if (name == "sequential") return SchedulePolicy::Sequential;
  if (name == "pipeline") return SchedulePolicy::Pipeline;
  if (name == "ooo") return SchedulePolicy::OutOfOrder;
  fail("unknown schedule '", name, "' (sequential, pipeline, ooo)");
}

const char* schedule_policy_name(SchedulePolicy p) {
  switch (p) {
    case SchedulePolicy::Sequential: return "sequential";
    case SchedulePolicy::Pipeline: return "pipeline";
    case SchedulePolicy::OutOfOrder: return "ooo";
  }
  return "?";
}

std::pair<int, int> LatencyModel::key(const Subgraph& sg, int chunk) {
  // Static subgraphs cost the same for every chunk; attention depends on how many keys it reads.
  return {sg.index, sg.is_static ? -1 : chunk};
}

void LatencyModel::set(const Subgraph& sg, int chunk, double seconds) { table_[key(sg, chunk)] = seconds; }

void LatencyModel::observe(const Subgraph& sg, int chunk, double seconds) {
  auto [it, inserted] = table_.try_emplace(key(sg, chunk), seconds);
  if (!inserted) it->second = 0.7 * it->second + 0.3 * seconds;
  // A dynamic subgraph's first observation also seeds later chunks' estimates (scaled by key count).
  if (!sg.is_static) {
    for (int c = chunk + 1; c < chunk + 64; ++c) {
      auto k = key(sg, c);
      if (table_.count(k)) break;
      table_[k] = seconds * double(c + 1) / double(chunk + 1);
    }
  }
}

double LatencyModel::predict(const Subgraph& sg, int chunk) const {
  auto it = table_.find(key(sg, chunk));
  if (it != table_.end()) return it->second;
  return 1e-3;  // unknown: a millisecond, the order of a small subgraph
}

void LatencyModel::observe_shadow(const Subgraph& sg, double seconds) {
  auto [it, inserted] = shadow_.try_emplace(sg.index, seconds);
  if (!inserted) it->second = 0.7 * it->second + 0.3 * seconds;
}

double LatencyModel::predict_shadow(const Subgraph& sg) const {
  auto it = shadow_.find(sg.index);
  return it == shadow_.end() ? 0.0 : it->second;
}

bool LatencyModel::knows(const Subgraph& sg, int chunk) const { return table_.count(key(sg, chunk)) > 0; }

static bool older(TaskId a, TaskId b) { return a.chunk < b.chunk || (a.chunk == b.chunk && a.sub < b.sub); }

bool pick_task(SchedulePolicy policy, const TaskGraph& graph, const ProcessorView& proc, int running,
               const LatencyModel& latency, TaskId* out) {
  if (policy == SchedulePolicy::Sequential && running > 0) return false;
  int oldest_chunk = graph.oldest_unfinished_chunk();

  bool found = false;
  double best_score = 0;
  for (TaskId t : graph.ready()) {
    const Subgraph& sg = graph.subgraph(t);
    if (!proc.can_run(sg.role) || !graph.may_start(t)) continue;
    if (policy == SchedulePolicy::Sequential && t.chunk != oldest_chunk) continue;
    if (policy == SchedulePolicy::Pipeline && t.chunk > oldest_chunk) {
      if (t.chunk > oldest_chunk + 1) continue;
      // The fixed lag: the older chunk (the oldest unfinished one) must have finished subgraph sub + lag.
      // Where that is past its last subgraph or a Head it skips, the younger waits for it to finish.
      const int ahead = t.sub + kPipelineLag;
      if (ahead >= graph.subgraphs_per_chunk() || !graph.completed({t.chunk - 1, ahead})) continue;
    }
    double score = 0;
    // With one processor for every role there is no other processor to keep busy: ooo is oldest-first.
    if (policy == SchedulePolicy::OutOfOrder && !(proc.runs_accelerator && proc.runs_host)) {
      for (TaskId u : graph.unlocked_by(t)) {
        const Subgraph& next = graph.subgraph(u);
        if (next.role != sg.role) score += latency.predict(next, u.chunk);
      }
      if (sg.role == Role::Accelerator) score += latency.predict_shadow(sg);  // host work while it runs
    }
    if (!found || score > best_score || (score == best_score && older(t, *out))) {
      *out = t;
      best_score = score;
      found = true;
    }
  }
  return found;
}

}  // namespace llmnpu
