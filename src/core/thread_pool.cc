#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "core/cpu_relax.h"
#include "core/error.h"

namespace llmnpu {
namespace {

// Spins until done() or the spin budget is spent; true if done() became true.
template <typename Done>
bool spin_until(const Done& done) {
  if (ThreadPool::spin_microseconds() == 0) return done();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(ThreadPool::spin_microseconds());
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

}  // namespace

int ThreadPool::spin_microseconds() {
  static const int us = [] {
    const char* env = std::getenv("LLMNPU_SPIN_US");
    if (!env || !*env) return 50;
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    return *end == '\0' && v >= 0 && v <= 1000000 ? int(v) : 50;
  }();
  return us;
}

bool pin_current_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // sched_setaffinity with pid 0 sets the calling thread's mask (Linux); Android's bionic has no
  // pthread_setaffinity_np.
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

namespace {
int allowed_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return int(std::max(1u, std::thread::hardware_concurrency()));
}
// Read at start-up, before any pool pins the main thread: asked later, the pinned caller would see one CPU
// (a probe asking then put both of its "two-core" threads on one core).
const int kAllowedCpus = allowed_cpus();
}  // namespace

// (Before static initialization reaches kAllowedCpus it is still 0: ask the OS then.)
int ThreadPool::hardware_threads() { return kAllowedCpus > 0 ? kAllowedCpus : allowed_cpus(); }

int ThreadPool::max_threads() { return std::max(16, 4 * hardware_threads()); }

ThreadPool::ThreadPool(int threads, std::vector<int> cores) {
  check(threads <= max_threads(), "a thread pool of ", threads, " threads is more than ", max_threads(),
        " (4 x the ", hardware_threads(), " cores, at least 16)");
  threads = std::max(1, threads);
  if (!cores.empty()) {
    restore_affinity_ = sched_getaffinity(0, sizeof(caller_affinity_), &caller_affinity_) == 0;
    pin_current_thread(cores[0]);
  }
  for (int i = 1; i < threads; ++i) {
    int cpu = i < int(cores.size()) ? cores[i] : -1;
    workers_.emplace_back([this, i, cpu] {
      if (cpu >= 0) pin_current_thread(cpu);
      worker_loop(i);
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  // Threads the caller creates later (another pool, a library's OpenMP team) inherit its affinity.
  if (restore_affinity_) sched_setaffinity(0, sizeof(caller_affinity_), &caller_affinity_);
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto ready = [&] {
      return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(ready)) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, ready);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    try {
      (*job_)(index);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);  // the caller may be between its check and its wait
      done_.notify_one();
    }
  }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
  if (workers_.empty()) {
    fn(0);
    return;
  }
  job_ = &fn;
  pending_.store(int(workers_.size()), std::memory_order_relaxed);
  {
    // Under the mutex: a worker that is about to sleep either sees the new generation or gets the notify.
    std::lock_guard lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  // The workers are running fn: whatever happens here, wait for them before leaving (fn may live on the
  // caller's stack), then report the first failure.
  std::exception_ptr caller_error;
  try {
    fn(0);
  } catch (...) {
    caller_error = std::current_exception();
  }
  auto finished = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  std::exception_ptr error;
  if (!spin_until(finished)) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, finished);
  }
  {
    std::lock_guard lock(mutex_);
    error = caller_error ? caller_error : error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::parallel_for(size_t n, const std::function<void(int, size_t, size_t)>& fn) {
  if (n == 0) return;
  int t = int(std::min<size_t>(n, size_t(size())));
  if (t == 1) {
    fn(0, 0, n);
    return;
  }
  run_on_all([&](int i) {
    if (i >= t) return;
    size_t begin = n * size_t(i) / size_t(t), end = n * size_t(i + 1) / size_t(t);
    if (begin < end) fn(i, begin, end);
  });
}

}  // namespace llmnpu
