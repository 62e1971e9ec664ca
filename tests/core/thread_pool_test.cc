// The pool's hand-off (spin, then sleep) must never lose a job or a completion, whether the next job
// comes at once (spinning workers) or after the workers went to sleep.
#include "core/thread_pool.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <vector>

namespace llmnpu {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnceAcrossManyBackToBackCalls) {
  ThreadPool pool(3);
  std::vector<int> hits(1000);
  for (int call = 0; call < 2000; ++call) {
    const size_t n = size_t(call % 37);
    pool.parallel_for(n, [&](int, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) hits[i] += 1;
    });
  }
  // index i was covered by every call with n > i
  for (size_t i = 0; i < 37; ++i) {
    int expected = 0;
    for (int call = 0; call < 2000; ++call) expected += size_t(call % 37) > i ? 1 : 0;
    EXPECT_EQ(hits[i], expected) << i;
  }
}

TEST(ThreadPool, JobsAfterTheWorkersFellAsleepStillRun) {
  ThreadPool pool(2);
  std::atomic<int> runs{0};
  for (int round = 0; round < 5; ++round) {
    // Longer than the spin budget: the worker is asleep on the condition variable by now.
    std::this_thread::sleep_for(std::chrono::microseconds(20 * ThreadPool::spin_microseconds() + 100));
    pool.run_on_all([&](int) { runs.fetch_add(1); });
  }
  EXPECT_EQ(runs.load(), 10);
}

TEST(ThreadPool, CallerWaitsForASlowWorker) {
  ThreadPool pool(2);
  std::atomic<bool> slow_done{false};
  pool.run_on_all([&](int i) {
    if (i == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the caller's spin
      slow_done = true;
    }
  });
  EXPECT_TRUE(slow_done.load());
}

TEST(ThreadPool, PinningTheCallerIsUndoneWhenThePoolGoes) {
  cpu_set_t before, after;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(before), &before), 0);
  { ThreadPool pool(1, {0}); }
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(after), &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
}

}  // namespace
}  // namespace llmnpu

namespace llmnpu {
namespace {

TEST(ThreadPool, HardwareThreadsIgnoresAPinnedCaller) {
  const int before = ThreadPool::hardware_threads();
  ThreadPool pool(1, {0});  // pins this thread to CPU 0 while the pool lives
  EXPECT_EQ(ThreadPool::hardware_threads(), before);
}

}  // namespace
}  // namespace llmnpu

namespace llmnpu {
namespace {

TEST(ThreadPool, AnExceptionOnAnyThreadReachesTheCallerAfterEveryThreadFinished) {
  ThreadPool pool(3);
  for (int thrower = 0; thrower < 3; ++thrower) {
    std::atomic<int> finished{0};
    EXPECT_THROW(pool.run_on_all([&](int i) {
      if (i == thrower) throw std::runtime_error("job failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      finished.fetch_add(1);
    }),
                 std::runtime_error);
    EXPECT_EQ(finished.load(), 2) << thrower;  // the others ran to the end before the call returned
  }
  // The pool still works afterwards, and an old failure is not reported again.
  std::atomic<int> runs{0};
  pool.run_on_all([&](int) { runs.fetch_add(1); });
  EXPECT_EQ(runs.load(), 3);
}

}  // namespace
}  // namespace llmnpu
