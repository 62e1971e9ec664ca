#include "kernels/bandwidth_probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm.h"

namespace llmnpu {
namespace {

// Eight independent sums over 64-byte lines: enough loads in flight to keep the memory system busy
// (one dependent chain per thread measures latency, not bandwidth). The sum is returned, so the
// compiler cannot drop the reads.
uint64_t read_range(const uint64_t* p, size_t words) {
  uint64_t s[8] = {};
  size_t i = 0;
  for (; i + 8 <= words; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += p[i + size_t(j)];
  for (; i < words; ++i) s[0] += p[i];
  uint64_t total = 0;
  for (uint64_t v : s) total += v;
  return total;
}

}  // namespace

double measure_read_bandwidth_gbs(int threads, size_t bytes, int passes) {
  threads = std::max(1, threads);
  const size_t words = std::max<size_t>(bytes / 8, size_t(threads) * 8);
  AlignedArray<uint64_t> buffer(words);
  std::memset(buffer.data(), 1, words * 8);  // touch every page before timing
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int pass = 0; pass < std::max(1, passes); ++pass) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> readers;
    for (int t = 0; t < threads; ++t)
      readers.emplace_back([&, t] {
        if (t < ThreadPool::hardware_threads()) pin_current_thread(t);
        const size_t begin = words * size_t(t) / size_t(threads),
                     end = words * size_t(t + 1) / size_t(threads);
        sink.fetch_add(read_range(buffer.data() + begin, end - begin), std::memory_order_relaxed);
      });
    for (auto& r : readers) r.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, double(words * 8) / seconds / 1e9);
  }
  return best;  // (the sums went into `sink`, so no read could be dropped)
}

}  // namespace llmnpu
