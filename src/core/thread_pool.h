#pragma once
// A fixed set of worker threads that run one parallel loop at a time.
// parallel_for splits [0, n) into contiguous ranges, one per thread (the caller is thread 0).
//
// Hand-offs spin briefly before sleeping: prefill issues thousands of short parallel loops (norms,
// quantization, GEMMs), and a futex wake-up costs several microseconds each way. The spin is bounded
// (spin_microseconds(): 50 by default, LLMNPU_SPIN_US in the environment overrides it, 0 = never spin),
// so on a loaded machine idle threads still go to sleep quickly.
#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmnpu {

class ThreadPool {
 public:
  // threads: total threads including the caller, 1..max_threads(). cores: optional CPU ids to pin to (thread
  // i -> cores[i]); the caller's own affinity is restored when the pool is destroyed.
  explicit ThreadPool(int threads, std::vector<int> cores = {});
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return int(workers_.size()) + 1; }

  // fn(thread_index, begin, end). Blocks until every range is done.
  void parallel_for(size_t n, const std::function<void(int, size_t, size_t)>& fn);
  // fn(thread_index) on every thread. If any of them throws, the call still waits for every thread to
  // finish, then rethrows the first exception on the caller.
  void run_on_all(const std::function<void(int)>& fn);

  static int hardware_threads();
  // The most threads a pool takes: a few times the cores (oversubscription can be measured; a typo cannot
  // start a hundred thousand threads). Larger requests throw Error.
  static int max_threads();
  static int spin_microseconds();  // read once

 private:
  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;  // the first exception a worker's job threw (guarded by mutex_)
  bool restore_affinity_ = false;
  cpu_set_t caller_affinity_{};
};

// Pins the calling thread to one CPU; returns false if the OS refused.
bool pin_current_thread(int cpu);

}  // namespace llmnpu
