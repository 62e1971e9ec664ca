#pragma once
// The runtime's shadow sink: int8 linears running on the accelerator role post their float shadow work
// here; the host role's processor takes it whenever it is between subgraphs (before its next subgraph:
// the accelerator is waiting for it), and a job the host has not started when the linear needs it runs
// on the accelerator's own threads instead. Jobs are recorded as trace slices ("blk.3.down shadow") on
// the lane that ran them.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/shadow_sink.h"
#include "runtime/trace.h"

namespace llmnpu {

class ShadowQueue final : public ShadowSink {
 public:
  // Lanes for the trace slices: where the host runs jobs, where the accelerator runs the ones it takes
  // back; origin: the trace's time origin (now_seconds()); chunk: set per task by the caller.
  ShadowQueue(int host_lane, int accelerator_lane, double origin, size_t min_work);

  int post(std::function<void(ThreadPool*)> job, std::string label) override;
  void join(int ticket, ThreadPool* pool) override;
  size_t min_work() const override { return min_work_; }

  // Host side: runs the oldest job not yet started, if any; false when there was none.
  bool run_one(ThreadPool* pool);
  // Called (without the queue's lock) after each post: wakes the host processor.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  struct Stats {
    int jobs = 0, on_host = 0, on_accelerator = 0;
    double host_seconds = 0, accelerator_seconds = 0;
  };
  Stats stats() const;
  // The slices recorded so far (moved out).
  std::vector<TraceSlice> take_slices();

 private:
  enum class State { Pending, Running, Done };
  struct Job {
    std::function<void(ThreadPool*)> fn;
    std::string label;
    State state = State::Pending;
    std::exception_ptr failure;  // rethrown by join
  };
  void run(Job& job, ThreadPool* pool, int lane, std::unique_lock<std::mutex>& lock);

  int host_lane_, accelerator_lane_;
  double origin_;
  size_t min_work_;
  std::function<void()> wake_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::unique_ptr<Job>> jobs_;  // by ticket
  std::deque<int> pending_;
  std::vector<TraceSlice> slices_;
  Stats stats_;
};

}  // namespace llmnpu
