#pragma once
// Measures this machine's memory read bandwidth (GB/s): threads read disjoint parts of a buffer far
// larger than the caches, several independent sums each, best of a few passes. Decode streams every
// weight once per token, so bandwidth / bytes per token is its roofline.
#include <cstddef>

namespace llmnpu {

// bytes: buffer size (default 512 MiB). threads: readers at once (thread i pinned to CPU i if possible).
double measure_read_bandwidth_gbs(int threads, size_t bytes = size_t(512) << 20, int passes = 3);

}  // namespace llmnpu
