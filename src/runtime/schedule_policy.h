#pragma once
// Which ready subgraph a free processor runs next.
//   sequential : one subgraph at a time in the whole system, chunk after chunk (the naive baseline)
//   pipeline   : the released mllm code's fixed lag: two chunks in flight, the younger one kPipelineLag
//                subgraphs behind the older (it may start subgraph j once the older has finished j + lag),
//                so one chunk's float attention overlaps the other's int8 subgraphs; oldest first
//   ooo        : the paper's online greedy: among the ready subgraphs this processor can run, the one
//                whose completion unlocks the most profiled work on the OTHER processor (so it never
//                starves), counting the shadow work an accelerator subgraph hands the host while it runs;
//                ties go to the oldest chunk.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/task_graph.h"

namespace llmnpu {

enum class SchedulePolicy { Sequential, Pipeline, OutOfOrder };
constexpr int kPipelineLag = 1;
SchedulePolicy parse_schedule_policy(const std::string& name);  // throws Error on an unknown name
const char* schedule_policy_name(SchedulePolicy p);

// Expected latency of each subgraph, profiled at load time and updated as chunks run (moving average).
// Attention cost grows with the number of keys, so it is kept per chunk index too.
class LatencyModel {
 public:
  void set(const Subgraph& sg, int chunk, double seconds);  // a prior (profile or cost model)
  void observe(const Subgraph& sg, int chunk, double seconds);
  double predict(const Subgraph& sg, int chunk) const;
  bool knows(const Subgraph& sg, int chunk) const;  // profiled or observed (else predict guesses)
  // Seconds of shadow work an accelerator subgraph hands to the host while it runs (0 = unknown/none).
  void observe_shadow(const Subgraph& sg, double seconds);
  void set_shadow(const Subgraph& sg, double seconds) { shadow_[sg.index] = seconds; }
  double predict_shadow(const Subgraph& sg) const;

 private:
  static std::pair<int, int> key(const Subgraph& sg, int chunk);
  std::map<std::pair<int, int>, double> table_;
  std::map<int, double> shadow_;
};

struct ProcessorView {
  bool runs_accelerator = false;  // may run Role::Accelerator subgraphs
  bool runs_host = false;         // may run Role::Host subgraphs
  bool can_run(Role r) const { return r == Role::Accelerator ? runs_accelerator : runs_host; }
};

// Picks a ready task for `proc`; false when none may run now. `running` counts tasks in flight.
bool pick_task(SchedulePolicy policy, const TaskGraph& graph, const ProcessorView& proc, int running,
               const LatencyModel& latency, TaskId* out);

}  // namespace llmnpu
