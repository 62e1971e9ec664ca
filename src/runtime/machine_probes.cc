#include "runtime/machine_probes.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/bandwidth_probe.h"
#include "kernels/int8_gemm.h"

namespace llmnpu {

// The bandwidth probe reads a 512 MiB buffer. It runs in a child process so that the buffer does not
// become this process's peak memory (getrusage's ru_maxrss, reported per row, never goes down). Called
// while this process has a single thread, so fork() is safe.
double measure_bandwidth_in_child(int threads) {
  int fds[2];
  if (pipe(fds) != 0) return measure_read_bandwidth_gbs(threads);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return measure_read_bandwidth_gbs(threads);
  }
  if (pid == 0) {
    close(fds[0]);
    double gbs = 0;
    try {
      gbs = measure_read_bandwidth_gbs(threads);
    } catch (...) {
    }
    const ssize_t written = write(fds[1], &gbs, sizeof gbs);
    _exit(written == ssize_t(sizeof gbs) ? 0 : 1);
  }
  close(fds[1]);
  double gbs = 0;
  const ssize_t got = read(fds[0], &gbs, sizeof gbs);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got == ssize_t(sizeof gbs) ? gbs : 0.0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// Peak resident memory since the last reset_peak_rss(): Linux keeps a resettable high-water mark (VmHWM,
// reset by writing 5 to /proc/self/clear_refs). Where that is unavailable: the process's lifetime peak.
bool reset_peak_rss() {
  malloc_trim(0);  // freed buffers of the previous run go back to the OS first (glibc keeps them resident)
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return bool(f);
}

double peak_rss_since_reset_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return peak_rss_mib();
}

// The dispatched int8 GEMM itself (AMX where the CPU has it, which the vpdpbusd probe does not measure)
// on a prefill-shaped problem (a chunk of 256 rows through qwen2.5-0.5b's gate/up width), fastest call of
// those in `seconds`: a second, kernel-level roofline next to the instruction peak.
double measure_int8_gemm_gmacs(int threads, double seconds) {
  constexpr int M = 256, K = 896, N = 4864;
  std::vector<int8_t> a(size_t(M) * K), w(size_t(N) * K);
  for (size_t i = 0; i < a.size(); ++i) a[i] = int8_t(int(i * 7 % 255) - 127);
  for (size_t i = 0; i < w.size(); ++i) w[i] = int8_t(int(i * 13 % 255) - 127);
  const float scale = 0.01f;
  PackedInt8Matrix packed = pack_int8_weights(w.data(), N, K, &scale, false);
  std::vector<float> y(size_t(M) * N);
  Int8Epilogue ep;
  ep.out_f32 = y.data();
  ep.ld_out = N;
  ThreadPool pool(threads);
  int8_gemm(a.data(), M, K, packed, 0.02f, ep, &pool);  // warm-up
  double best = 1e300;
  const double start = now_seconds();
  do {
    const double t0 = now_seconds();
    int8_gemm(a.data(), M, K, packed, 0.02f, ep, &pool);
    best = std::min(best, now_seconds() - t0);
  } while (now_seconds() - start < seconds);
  return double(M) * K * N / best / 1e9;
}

// Linear-layer MACs per prompt token: the work the int8 roofline counts (attention and the output head,
// float work on the host, are left out).
double linear_macs_per_token(const ModelConfig& c) {
  double per_layer = double(c.dim) * (c.q_dim() + 2.0 * c.kv_dim()) + double(c.q_dim()) * c.dim +
                     double(c.dim) * 2.0 * c.ffn_dim + double(c.ffn_dim) * c.dim;
  return per_layer * c.n_layers;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start != std::string::npos) return line.substr(start);
  }
  return "unknown CPU";
}

}  // namespace llmnpu
