#include "sim/machine_profile.h"

#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/attention.h"
#include "kernels/float_gemm.h"
#include "kernels/int8_gemm.h"
#include "runtime/processor.h"

namespace llmnpu::sim {

namespace {

// Repeats fn (after one warm-up call) until min_seconds have passed; returns the rate of the fastest
// call in GMAC/s. The fastest, not the mean: this machine is shared, and other jobs only slow calls down.
double rate_gmacs(double macs, double min_seconds, const std::function<void()>& fn) {
  fn();
  double start = now_seconds(), best = 0;
  for (int reps = 0; reps == 0 || now_seconds() - start < min_seconds; ++reps) {
    double t0 = now_seconds();
    fn();
    double t = now_seconds() - t0;
    if (reps == 0 || t < best) best = t;
  }
  return macs / best / 1e9;
}

// Deterministic filler values (a linear congruential sequence), so every probe does the same work.
struct Filler {
  uint32_t state = 12345;
  uint32_t next() { return state = state * 1664525u + 1013904223u; }
  int8_t int8() { return int8_t(int(next() >> 24) % 255 - 127); }
  float real() { return float(int(next() >> 16) % 2001 - 1000) * 1e-3f; }
};

struct Probes {
  const MachineProbeOptions& o;
  std::vector<int8_t> a, w;
  PackedInt8Matrix packed;
  std::vector<float> x, wf, y, q, k, v, att;
  int context = 0;

  explicit Probes(const MachineProbeOptions& options) : o(options) {
    Filler f;
    size_t mk = size_t(o.m) * size_t(o.k), nk = size_t(o.n) * size_t(o.k);
    a.resize(mk);
    w.resize(nk);
    for (auto& e : a) e = f.int8();
    for (auto& e : w) e = f.int8();
    float scale = 0.01f;
    packed = pack_int8_weights(w.data(), o.n, o.k, &scale, false);
    x.resize(mk);
    wf.resize(nk);
    for (auto& e : x) e = f.real();
    for (auto& e : wf) e = f.real();
    y.resize(size_t(o.m) * size_t(o.n));
    context = o.attention_q_start + o.attention_rows;
    size_t qd = size_t(o.n_heads) * size_t(o.head_dim);
    q.resize(size_t(o.attention_rows) * qd);
    k.resize(size_t(o.n_kv_heads) * size_t(context) * size_t(o.head_dim));
    v.resize(k.size());
    att.resize(q.size());
    for (auto& e : q) e = f.real();
    for (auto& e : k) e = f.real();
    for (auto& e : v) e = f.real();
  }

  double gemm_macs() const { return double(o.m) * double(o.k) * double(o.n); }
  double attention_macs() const {
    double r = o.attention_rows, keys = r * double(o.attention_q_start) + r * (r + 1) / 2;
    return double(o.n_heads) * double(o.head_dim) * 2 * keys;
  }

  double int8(ThreadPool* pool) {
    Int8Epilogue ep;
    ep.out_f32 = y.data();
    ep.ld_out = o.n;
    return rate_gmacs(gemm_macs(), o.min_seconds,
                      [&] { int8_gemm(a.data(), o.m, o.k, packed, 0.02f, ep, pool); });
  }
  double floating(ThreadPool* pool) {
    return rate_gmacs(gemm_macs(), o.min_seconds, [&] {
      kernels::float_gemm(x.data(), o.m, size_t(o.k), wf.data(), o.n, o.k, y.data(), size_t(o.n), nullptr,
                          false, pool);
    });
  }
  double attention(ThreadPool* pool) {
    kernels::AttentionArgs args;
    args.q = q.data();
    args.q_row_stride = size_t(o.n_heads) * size_t(o.head_dim);
    args.T = o.attention_rows;
    args.q_start = o.attention_q_start;
    args.k = k.data();
    args.v = v.data();
    args.kv_pos_stride = size_t(o.head_dim);
    args.kv_head_stride = size_t(context) * size_t(o.head_dim);
    args.n_heads = o.n_heads;
    args.n_kv_heads = o.n_kv_heads;
    args.head_dim = o.head_dim;
    args.out = att.data();
    args.out_row_stride = args.q_row_stride;
    return rate_gmacs(attention_macs(), o.min_seconds, [&] { kernels::causal_attention(args, pool); });
  }
};

// The real runner's cost of handing a subgraph to a processor and hearing back: submit an empty job to
// a Processor and wait for its completion notice, as ChunkedPrefill::run does.
double dispatch_seconds() {
  Processor proc("probe", ProcessorView{true, true}, 1, {});
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  auto once = [&] {
    {
      std::lock_guard lock(mutex);
      done = false;
    }
    proc.submit([&](ThreadPool*) {
      std::lock_guard lock(mutex);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done; });
  };
  for (int i = 0; i < 20; ++i) once();
  const int runs = 500;
  double start = now_seconds();
  for (int i = 0; i < runs; ++i) once();
  return (now_seconds() - start) / runs;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown CPU";
}

}  // namespace

DeviceProfile profile_this_machine(const MachineProbeOptions& o) {
  check(o.m > 0 && o.k > 0 && o.n > 0, "probe GEMM shape must be positive");
  check(o.n_heads > 0 && o.n_kv_heads > 0 && o.n_heads % o.n_kv_heads == 0 && o.head_dim > 0,
        "probe attention heads are inconsistent");
  auto say = [&](const std::string& what) {
    if (o.progress) o.progress(what);
  };
  Probes probes(o);
  const int hw = o.homogeneous_threads > 0 ? o.homogeneous_threads : ThreadPool::hardware_threads();

  say("dispatch latency");
  double launch = dispatch_seconds();
  say("one core: int8 GEMM, float GEMM, attention");
  ProcessorProfile core;
  core.int8_gmacs = probes.int8(nullptr);
  core.float_gmacs = probes.floating(nullptr);
  core.attention_gmacs = probes.attention(nullptr);
  core.launch_s = launch;
  core.sync_s = 0;

  say(str(hw, " threads: int8 GEMM, float GEMM, attention"));
  ProcessorProfile all;
  {
    ThreadPool pool(hw);
    all.int8_gmacs = probes.int8(&pool);
    all.float_gmacs = probes.floating(&pool);
    all.attention_gmacs = probes.attention(&pool);
  }
  all.launch_s = launch;
  all.name = str("all cores (", hw, " threads)");

  DeviceProfile d;
  d.name = "this-machine";
  d.description = str(cpu_model_name(), ", ", int8_kernel_name(best_int8_kernel()),
                      " int8 kernel; accelerator and host roles are one CPU core each");
  d.accelerator = core;
  d.accelerator.name = "accelerator role (CPU int8, 1 core)";
  d.host = core;
  d.host.name = "host role (CPU float, 1 core)";
  d.homogeneous = all;
  d.computes_padding = false;  // CpuBackend computes the real rows of a padded chunk only
  d.notes = {str("measured by llmnpu sim --profile-this-machine: GEMM M=", o.m, " K=", o.k, " N=", o.n,
                 "; attention ", o.attention_rows, " queries after ", o.attention_q_start,
                 " cached positions, ", o.n_heads, "/", o.n_kv_heads, " heads of ", o.head_dim),
             "launch_s: submit-to-completion round trip of an empty job on a runtime Processor",
             "sync_s: 0, both roles share the CPU caches and memory; no power figures (not measurable here)"};
  return d;
}

}  // namespace llmnpu::sim
