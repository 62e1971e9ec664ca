#pragma once
// Where an int8 linear sends the float shadow work of one call (its outlier entries times their weight
// rows) to run beside its int8 GEMM: the host role's processor takes it while the accelerator computes,
// and the linear merges the result before returning (before the next op reads its output). The runtime
// implements it (runtime/shadow_queue.h); without a sink, the linear does the shadow work itself.
#include <cstddef>
#include <functional>
#include <string>

namespace llmnpu {

class ThreadPool;

class ShadowSink {
 public:
  virtual ~ShadowSink() = default;
  // Queues job for the host role; returns a ticket at once. label names it in traces ("blk.3.down").
  virtual int post(std::function<void(ThreadPool*)> job, std::string label) = 0;
  // Returns once the job is done. A job no host thread has started yet runs here, on `pool` (the caller's
  // threads), so a busy host never stalls the accelerator for longer than the work itself.
  virtual void join(int ticket, ThreadPool* pool) = 0;
  // Calls with less shadow work than this (outlier entries x output features) keep it inline: a hand-off
  // costs microseconds.
  virtual size_t min_work() const { return 64 * 1024; }
};

// Where one linear call places its shadow work: sink null = inline (the linear adds it itself).
struct ShadowPlacement {
  ShadowSink* sink = nullptr;
  std::string label;
};

}  // namespace llmnpu
