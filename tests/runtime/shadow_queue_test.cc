// The shadow queue: a job the host takes runs there; one nobody took runs on the joining caller; the
// caller's join waits for a job the host is running; failures reach the caller; slices name the lane.
#include "runtime/shadow_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "core/error.h"

namespace llmnpu {
namespace {

TEST(ShadowQueue, HostTakesWhatItCanAndTheCallerTheRest) {
  ShadowQueue q(/*host_lane=*/1, /*accelerator_lane=*/0, 0.0, 0);
  std::atomic<int> woken{0};
  q.set_wake([&] { ++woken; });

  // Nobody services the queue: join runs the job on the caller, recorded on the accelerator's lane.
  int ran = 0;
  const int a = q.post([&](ThreadPool*) { ++ran; }, "blk.0.qkv");
  EXPECT_EQ(woken.load(), 1);
  q.join(a, nullptr);
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(q.run_one(nullptr));  // already done: nothing left for the host

  // The host takes the next one while the caller waits in join.
  std::atomic<bool> started{false}, release{false};
  const int b = q.post(
      [&](ThreadPool*) {
        started = true;
        while (!release) std::this_thread::yield();
        ++ran;
      },
      "blk.0.down");
  std::thread host([&] { EXPECT_TRUE(q.run_one(nullptr)); });
  while (!started) std::this_thread::yield();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    release = true;
  });
  q.join(b, nullptr);  // returns only once the host finished it
  EXPECT_EQ(ran, 2);
  host.join();
  releaser.join();

  const ShadowQueue::Stats st = q.stats();
  EXPECT_EQ(st.jobs, 2);
  EXPECT_EQ(st.on_accelerator, 1);
  EXPECT_EQ(st.on_host, 1);
  const auto slices = q.take_slices();
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[0].name, "blk.0.qkv shadow");
  EXPECT_EQ(slices[0].lane, 0);
  EXPECT_TRUE(slices[0].nested);
  EXPECT_EQ(slices[1].lane, 1);
  EXPECT_FALSE(slices[1].nested);
  EXPECT_GE(slices[1].duration, 0.004);

  // A job that fails on the host fails the caller's join, not the host thread.
  const int c = q.post([](ThreadPool*) { throw Error("shadow failed"); }, "blk.1.o");
  EXPECT_TRUE(q.run_one(nullptr));
  EXPECT_THROW(q.join(c, nullptr), Error);
  EXPECT_THROW(q.join(99, nullptr), Error);
}

}  // namespace
}  // namespace llmnpu
