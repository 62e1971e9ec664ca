#include "sim/virtual_prefill.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "runtime/task_graph.h"
#include "sim/cost_model.h"

namespace llmnpu::sim {

namespace {

ProcessorProfile named(ProcessorProfile p, const char* fallback) {
  if (p.name.empty()) p.name = fallback;
  return p;
}

// What the cost model needs to know about chunk i of this prefill.
struct ChunkShape {
  int pos0 = 0;
  int rows = 0;
};

ChunkShape chunk_shape(const SimOptions& o, const DeviceProfile& device, int chunk) {
  int pos0 = chunk * o.chunk_len;
  int rows = o.context > 0 ? std::min(o.chunk_len, o.context - pos0) : o.chunk_len;
  if (!device.computes_padding) rows = std::min(rows, o.prompt_tokens - pos0);
  return {pos0, rows};
}

// The processor that runs a role when the scheduler has a choice of one (seeding the latency model).
const SimProcessor& runner_of(const std::vector<SimProcessor>& procs, Role role) {
  for (const auto& p : procs)
    if (p.view.can_run(role)) return p;
  fail("no simulated processor can run ", role_name(role), " subgraphs");
}

SubgraphWork work_of(const ModelConfig& config, const Subgraph& sg, const SimOptions& o,
                     const DeviceProfile& device, int chunk) {
  ChunkShape shape = chunk_shape(o, device, chunk);
  return subgraph_work(config, sg, shape.pos0, shape.rows, 1);  // logits of the last row only
}

}  // namespace

std::vector<SimProcessor> sim_processors(const DeviceProfile& device, bool homogeneous) {
  std::vector<SimProcessor> out;
  if (homogeneous) {
    check(device.homogeneous.has_value(), "device profile '", device.name,
          "' has no 'homogeneous' processor: it cannot simulate the homogeneous topology");
    out.push_back({named(*device.homogeneous, "all cores"), ProcessorView{true, true}});
  } else {
    out.push_back({named(device.accelerator, "accelerator role"), ProcessorView{true, false}});
    out.push_back({named(device.host, "host role"), ProcessorView{false, true}});
  }
  return out;
}

void seed_latency(LatencyModel& latency, const ModelConfig& config, const std::vector<Subgraph>& subgraphs,
                  const DeviceProfile& device, const SimOptions& options) {
  auto procs = sim_processors(device, options.homogeneous);
  const int chunks = int((int64_t(options.prompt_tokens) + options.chunk_len - 1) / options.chunk_len);
  for (const Subgraph& sg : subgraphs) {
    const SimProcessor& p = runner_of(procs, sg.role);
    for (int i = 0; i < (sg.is_static ? 1 : chunks); ++i)
      latency.set(sg, i, isolated_seconds(device, p.profile, work_of(config, sg, options, device, i)));
    const double shadow =
        shadow_macs(sg, chunk_shape(options, device, 0).rows, options.shadow_entries_per_row);
    if (shadow > 0 && !options.homogeneous)
      latency.set_shadow(sg,
                         shadow / work_rate(device, runner_of(procs, Role::Host).profile, WorkKind::Float));
  }
}

void check_simulation_size(const SimOptions& options, size_t subgraphs) {
  check(options.prompt_tokens > 0 && options.chunk_len > 0, "prompt and chunk lengths must be positive");
  // Every chunk x subgraph is a task with its own trace slice: bound them so memory stays small.
  const int64_t chunks = (int64_t(options.prompt_tokens) + options.chunk_len - 1) / options.chunk_len;
  check(chunks * int64_t(subgraphs) <= kMaxSimulatedTasks, "a prompt of ", options.prompt_tokens,
        " tokens in chunks of ", options.chunk_len, " is ", chunks, " chunks x ", subgraphs,
        " subgraphs, more than the ", kMaxSimulatedTasks,
        " subgraph runs the simulator takes: use a longer --chunk");
}

SimResult simulate_prefill(const ModelConfig& config, const std::vector<Subgraph>& subs,
                           const DeviceProfile& device, const SimOptions& options, Trace* trace) {
  check(options.prompt_tokens > 0, "the prompt is empty");
  check(options.chunk_len > 0, "chunk length must be positive");
  check(options.context == 0 || options.prompt_tokens <= options.context, "prompt of ", options.prompt_tokens,
        " tokens does not fit in the context of ", options.context, " tokens");
  check(!subs.empty(), "no subgraphs to simulate");
  check_simulation_size(options, subs.size());
  const int n = options.prompt_tokens;
  const int n_chunks = int((int64_t(n) + options.chunk_len - 1) / options.chunk_len);
  const std::vector<SimProcessor> processors = sim_processors(device, options.homogeneous);

  std::vector<bool> head(size_t(n_chunks), false);
  head.back() = true;
  TaskGraph graph(subs, n_chunks, head);
  LatencyModel latency;  // profiled at load time, as the real runner's would be
  seed_latency(latency, config, subs, device, options);

  Trace local;
  Trace& out = trace ? *trace : local;
  {
    std::vector<std::string> lanes;
    for (const auto& p : processors) lanes.push_back(p.profile.name);
    out.set_lanes(lanes);
  }

  // Where each task ran: a subgraph whose input came from another processor pays that one's sync.
  const size_t per_chunk = subs.size();
  std::vector<int> ran_on(size_t(n_chunks) * per_chunk, -1);
  auto ran_elsewhere = [&](TaskId t, int p) {
    auto other = [&](TaskId d) {
      int q = ran_on[size_t(d.chunk) * per_chunk + size_t(d.sub)];
      return q >= 0 && q != p;
    };
    if (t.sub > 0 && other({t.chunk, t.sub - 1})) return true;
    return subs[size_t(t.sub)].chains_chunks && t.chunk > 0 && other({t.chunk - 1, t.sub});
  };

  struct InFlight {
    TaskId task;
    double start = 0, end = 0;
  };
  std::vector<std::optional<InFlight>> busy(processors.size());
  std::vector<double> busy_s(processors.size(), 0.0);
  // Shadow work the host has taken on: it starts nothing else before reserved_until.
  int host = -1;
  for (size_t p = 0; p < processors.size(); ++p)
    if (processors[p].view.runs_host && !processors[p].view.runs_accelerator) host = int(p);
  double reserved_until = 0;
  int running = 0;
  double now = 0;

  while (!graph.finished()) {
    bool dispatched = false;
    for (size_t p = 0; p < processors.size(); ++p) {
      if (busy[p]) continue;
      TaskId t;
      if (!pick_task(options.policy, graph, processors[p].view, running, latency, &t)) continue;
      graph.start(t);
      ++running;
      dispatched = true;
      const Subgraph& sg = graph.subgraph(t);
      const ProcessorProfile& proc = processors[p].profile;
      double seconds = isolated_seconds(device, proc, work_of(config, sg, options, device, t.chunk));
      if (ran_elsewhere(t, int(p))) seconds += proc.sync_s;
      double start = now;
      if (int(p) == host) start = std::max(now, reserved_until);
      const double macs =
          shadow_macs(sg, chunk_shape(options, device, t.chunk).rows, options.shadow_entries_per_row);
      if (macs > 0) {
        // The host takes the shadow work if it can start it before the accelerator's own work ends;
        // else the accelerator does it itself (where it can run float work) or waits for the host.
        const bool inline_possible = proc.float_gmacs > 0;
        double host_start = host >= 0 ? std::max(now, reserved_until) : 0;
        if (host >= 0 && busy[size_t(host)]) host_start = std::max(host_start, busy[size_t(host)]->end);
        if (host >= 0 && int(p) != host && (host_start <= start + seconds || !inline_possible)) {
          const double s = macs / work_rate(device, processors[size_t(host)].profile, WorkKind::Float);
          reserved_until = host_start + s;
          busy_s[size_t(host)] += s;
          out.add({host, sg.name() + " shadow", t.chunk, sg.layer, "shadow", host_start, s});
          seconds = std::max(seconds, reserved_until - start);
        } else {
          seconds += macs / work_rate(device, proc, WorkKind::Float);
        }
      }
      busy[p] = InFlight{t, start, start + seconds};
    }
    if (graph.finished()) break;
    if (!dispatched && running == 0) fail("scheduler stalled: no processor can run the ready subgraphs");
    // Wait for the next completion (ties: the lower processor index first).
    size_t next = processors.size();
    for (size_t p = 0; p < processors.size(); ++p)
      if (busy[p] && (next == processors.size() || busy[p]->end < busy[next]->end)) next = p;
    const InFlight done = *busy[next];
    const Subgraph& sg = graph.subgraph(done.task);
    now = done.end;
    latency.observe(sg, done.task.chunk, done.end - done.start);
    out.add({int(next), sg.name(), done.task.chunk, sg.layer, sg.is_static ? "static" : "dynamic", done.start,
             done.end - done.start});
    busy_s[next] += done.end - done.start;
    ran_on[size_t(done.task.chunk) * per_chunk + size_t(done.task.sub)] = int(next);
    graph.complete(done.task);
    busy[next].reset();
    --running;
  }

  SimResult r;
  r.policy = options.policy;
  r.homogeneous = options.homogeneous;
  r.prompt_tokens = n;
  r.chunks = n_chunks;
  r.tasks = graph.total_tasks();
  r.seconds = now;
  r.tokens_per_second = now > 0 ? double(n) / now : 0;
  r.has_energy = true;
  for (size_t p = 0; p < processors.size(); ++p) {
    const ProcessorProfile& proc = processors[p].profile;
    SimLane lane;
    lane.name = proc.name;
    lane.busy_s = busy_s[p];
    lane.busy_share = now > 0 ? busy_s[p] / now : 0;
    lane.bubble_share = now > 0 ? 1 - lane.busy_share : 0;
    if (proc.has_power())
      lane.energy_j = *proc.busy_w * busy_s[p] + *proc.idle_w * (now - busy_s[p]);
    else
      r.has_energy = false;
    r.energy_j += lane.energy_j;
    r.lanes.push_back(lane);
  }
  if (!r.has_energy) r.energy_j = 0;
  r.energy_per_token_j = r.has_energy ? r.energy_j / double(n) : 0;
  return r;
}

}  // namespace llmnpu::sim
