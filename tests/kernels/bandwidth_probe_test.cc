#include "kernels/bandwidth_probe.h"

#include <gtest/gtest.h>

namespace llmnpu {
namespace {

// Sanity bounds only (speed is measured by `llmnpu bench`, not by tests): a real, finite rate on a
// small buffer, for one and two threads.
TEST(BandwidthProbe, ReturnsAPlausibleRate) {
  for (int threads : {1, 2}) {
    const double gbs = measure_read_bandwidth_gbs(threads, size_t(8) << 20, 1);
    EXPECT_GT(gbs, 0.1) << threads;
    EXPECT_LT(gbs, 10000.0) << threads;
  }
}

}  // namespace
}  // namespace llmnpu
