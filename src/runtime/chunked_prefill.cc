#include "runtime/chunked_prefill.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>

#include "core/error.h"
#include "core/timer.h"

namespace llmnpu {

ChunkedPrefill::ChunkedPrefill(Engine& engine, const Topology& topology)
    : engine_(engine), topology_(topology), processors_(make_processors(topology)) {}

std::vector<float> ChunkedPrefill::run(const std::vector<int32_t>& tokens, const PrefillPlan& plan,
                                       Trace* trace, const LogitsCallback& on_logits) {
  check(!tokens.empty(), "the prompt is empty");
  check(plan.chunk_len > 0 && plan.chunk_len <= engine_.context(), "chunk length ", plan.chunk_len,
        " must be from 1 to the context of ", engine_.context(), " tokens");
  const int pos_base = engine_.position();
  const int n = int(tokens.size());
  check(pos_base + n <= engine_.context(), "prompt of ", n, " tokens (", pos_base,
        " already cached) does not fit in the context of ", engine_.context(), " tokens");
  const int n_chunks = (n + plan.chunk_len - 1) / plan.chunk_len;
  const bool all_logits = bool(on_logits);
  const auto& subs = engine_.graph().chunk_subgraphs;

  // Every chunk has the static shape (the last one padded), compiled here once, before processors run
  // subgraphs concurrently.
  engine_.compile_for(plan.chunk_len);

  std::vector<bool> head(size_t(n_chunks), all_logits);
  head.back() = true;
  TaskGraph graph(subs, n_chunks, head);
  std::vector<Chunk> chunks(static_cast<size_t>(n_chunks));
  auto chunk_tokens = [&](int i) {
    int b = i * plan.chunk_len, e = std::min(n, b + plan.chunk_len);
    return std::vector<int32_t>(tokens.begin() + b, tokens.begin() + e);
  };

  if (trace) {
    std::vector<std::string> lanes;
    for (const auto& p : processors_) lanes.push_back(p->name());
    trace->set_lanes(lanes);
  }
  // Shadow work goes to the host role's processor when there is one beside an accelerator processor.
  int host_proc = -1, accel_proc = -1;
  for (size_t p = 0; p < processors_.size(); ++p) {
    const ProcessorView& v = processors_[p]->roles();
    if (v.runs_host && !v.runs_accelerator && host_proc < 0) host_proc = int(p);
    if (v.runs_accelerator && !v.runs_host && accel_proc < 0) accel_proc = int(p);
  }
  bool has_shadow = false;
  for (const Subgraph& sg : subs)
    has_shadow = has_shadow || (sg.role == Role::Accelerator && sg.shadow_ops() > 0);
  const double origin = now_seconds();
  std::unique_ptr<ShadowQueue> shadow;
  if (plan.shadow_on_host && has_shadow && host_proc >= 0 && accel_proc >= 0) {
    shadow = std::make_unique<ShadowQueue>(host_proc, accel_proc, origin, plan.shadow_min_work);
    Processor* host = processors_[size_t(host_proc)].get();
    shadow->set_wake([host] { host->wake(); });
    host->set_idle_work([q = shadow.get()](ThreadPool* pool) { return q->run_one(pool); });
  }
  shadow_stats_ = {};

  std::mutex mutex;
  std::condition_variable cv;
  std::vector<bool> busy(processors_.size(), false);
  int running = 0;
  std::exception_ptr error;

  bool stalled = false;

  // Hands ready subgraphs to every free processor; called with the mutex held, first here and then by each
  // processor as it finishes a subgraph. So a processor picks its next subgraph itself, without a round
  // trip through this thread: that hand-off (two thread wake-ups per subgraph) cost 5-20% of prefill when
  // this thread was an HTTP worker that the OS scheduled late.
  std::function<void()> dispatch;
  dispatch = [&] {
    if (error) return;
    try {
      for (size_t p = 0; p < processors_.size(); ++p) {
        if (busy[p]) continue;
        TaskId t;
        if (!pick_task(plan.policy, graph, processors_[p]->roles(), running, latency_, &t)) continue;
        if (t.sub == 0) {  // a chunk's buffers exist only while it is in flight (made before it counts as
                           // running: a failure here leaves nothing to wait for)
          int pos0 = pos_base + t.chunk * plan.chunk_len;
          AlignedArray<float> buffers;
          if (!spare_buffers_.empty()) {
            buffers = std::move(spare_buffers_.back());
            spare_buffers_.pop_back();
          }
          chunks[size_t(t.chunk)] = engine_.make_chunk(t.chunk, pos0, chunk_tokens(t.chunk), plan.chunk_len,
                                                       all_logits, std::move(buffers));
        }
        graph.start(t);
        busy[p] = true;
        ++running;
        processors_[p]->submit([&, p, t](ThreadPool* pool) {
          const Subgraph& sg = graph.subgraph(t);
          ShadowSink* sink = shadow && sg.role == Role::Accelerator ? shadow.get() : nullptr;
          const ShadowQueue::Stats before = sink ? shadow->stats() : ShadowQueue::Stats{};
          double start = now_seconds();
          std::exception_ptr failure;
          try {
            engine_.run_subgraph(sg, chunks[size_t(t.chunk)], pool, sink);
          } catch (...) {
            failure = std::current_exception();
          }
          double end = now_seconds();
          std::lock_guard done(mutex);
          if (failure && !error) error = failure;
          latency_.observe(sg, t.chunk, end - start);
          if (sink) {
            const ShadowQueue::Stats after = shadow->stats();
            latency_.observe_shadow(sg, after.host_seconds + after.accelerator_seconds - before.host_seconds -
                                            before.accelerator_seconds);
          }
          if (trace)
            trace->add({int(p), sg.name(), t.chunk, sg.layer, sg.is_static ? "static" : "dynamic",
                        start - origin, end - start});
          graph.complete(t);
          if (graph.chunk_finished(t.chunk))
            spare_buffers_.push_back(chunks[size_t(t.chunk)].take_activations());
          busy[p] = false;
          --running;
          dispatch();
          if (running == 0) cv.notify_all();
        });
      }
    } catch (...) {  // making a chunk failed: the running subgraphs finish, then run() reports it
      error = std::current_exception();
    }
    if (running == 0 && !graph.finished()) stalled = true;
  };

  std::unique_lock lock(mutex);
  dispatch();
  cv.wait(lock, [&] { return running == 0; });
  check(bool(error) || !stalled, "scheduler stalled: no processor can run the ready subgraphs");
  lock.unlock();
  if (shadow) {
    processors_[size_t(host_proc)]->set_idle_work(nullptr);
    shadow_stats_ = shadow->stats();
    if (trace) trace->add(shadow->take_slices());
  }
  if (error) std::rethrow_exception(error);

  std::vector<float> last;
  size_t vocab = size_t(engine_.config().vocab_size);
  for (int i = 0; i < n_chunks; ++i) {
    Chunk& c = chunks[size_t(i)];
    if (all_logits)
      for (int t = 0; t < c.T; ++t) on_logits(c.pos0 + t, c.logits.data() + size_t(t) * vocab);
    if (i == n_chunks - 1) last.assign(c.logits.end() - long(vocab), c.logits.end());
  }
  engine_.commit_position(pos_base + n);
  return last;
}

double ChunkedPrefill::profile(int chunk_len, SchedulePolicy policy) {
  const int start = engine_.position();
  const int tokens = std::min(engine_.context() - start, 2 * chunk_len);
  if (tokens <= 0) return 0;
  // Ids from the first kTrialVocab of the vocabulary: ids spread over all of it would fault in (with the
  // kernel's fault-around) nearly every page of a mapped embedding table, 233 MB of RSS on qwen2.5-0.5b
  // that no prompt needs.
  constexpr size_t kTrialVocab = 1024;
  const size_t trial_vocab = std::min(kTrialVocab, size_t(engine_.config().vocab_size));
  std::vector<int32_t> trial(static_cast<size_t>(tokens));
  for (size_t i = 0; i < trial.size(); ++i) trial[i] = int32_t((i * 7919 + 11) % trial_vocab);
  const double t0 = now_seconds();
  run(trial, {chunk_len, policy});
  const double seconds = now_seconds() - t0;
  engine_.commit_position(start);
  return seconds;
}

}  // namespace llmnpu
