// Our int8 GEMM (with its fused epilogue: dequantize + bias + residual -> fp32) against oneDNN's int8 and
// fp32 matmul on the projection shapes of qwen2.5-0.5b and llama-3.2-1b, in one program.
// oneDNN picks its own ISA (AMX where present); DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI in the environment
// restricts it to VNNI for a like-for-like comparison with ours_avx512-vnni.
// Counters: GMAC/s and percent of the measured peak (vpdpbusd for int8, vfmadd231ps for fp32).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm.h"
#include "kernels/peak_probe.h"

#ifdef LLMNPU_HAVE_DNNL
#include <dlfcn.h>

#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#endif

namespace {

struct Shape {
  const char* model;
  int k, n;
};
constexpr Shape kShapes[] = {
    {"qwen0.5b", 896, 1152}, {"qwen0.5b", 896, 896},  {"qwen0.5b", 896, 9728},  {"qwen0.5b", 4864, 896},
    {"llama1b", 2048, 3072}, {"llama1b", 2048, 2048}, {"llama1b", 2048, 16384}, {"llama1b", 8192, 2048},
};
constexpr int kRows[] = {1, 32, 64, 128, 256, 512};  // 1: decode (GEMV), weight-streaming bound
constexpr int kThreads[] = {1, 2};

template <typename T>
std::vector<T> random_values(size_t count, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<T> v(count);
  for (auto& x : v) x = T(dist(rng));
  return v;
}

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

// One thread: rates per CPU second of the benchmark thread against the probe's CPU-time peak (other
// processes on a shared machine then change neither). More threads: wall time against the wall peak.
llmnpu::PeakClock clock_for(int threads) {
  return threads == 1 ? llmnpu::PeakClock::ThreadCpu : llmnpu::PeakClock::Wall;
}

void set_counters(benchmark::State& state, double macs, llmnpu::PeakKind kind, int threads) {
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = llmnpu::peak_gmacs(kind, threads, clock_for(threads));
  if (peak > 0)
    state.counters["pct_peak"] =
        benchmark::Counter(macs * 1e-9 / peak * 100.0, benchmark::Counter::kIsIterationInvariantRate);
}

void bench_ours(benchmark::State& state, Shape shape, int m, int threads, llmnpu::Int8Kernel kernel) {
  const int k = shape.k, n = shape.n;
  auto a = random_values<int8_t>(size_t(m) * k, -127, 127, 1);
  auto w = random_values<int8_t>(size_t(n) * k, -127, 127, 2);
  auto scales = random_floats(n, 3);
  auto bias = random_floats(n, 4);
  auto residual = random_floats(size_t(m) * n, 5);
  std::vector<float> out(size_t(m) * n);
  const llmnpu::PackedInt8Matrix packed = llmnpu::pack_int8_weights(w.data(), n, k, scales.data(), true);
  llmnpu::Int8Epilogue ep;
  ep.bias = bias.data();
  ep.residual = residual.data();
  ep.ld_residual = n;
  ep.out_f32 = out.data();
  ep.ld_out = n;
  std::unique_ptr<llmnpu::ThreadPool> pool;
  if (threads > 1) pool = std::make_unique<llmnpu::ThreadPool>(threads, std::vector<int>{0, 1});
  for (auto _ : state) {
    llmnpu::int8_gemm(a.data(), m, k, packed, 0.02f, ep, pool.get(), kernel);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, double(m) * n * k, llmnpu::PeakKind::Int8Dot, threads);
  // Weight bytes streamed per second (what bounds decode, M = 1).
  state.counters["wGB/s"] =
      benchmark::Counter(double(n) * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(llmnpu::int8_kernel_name(kernel));
}

#ifdef LLMNPU_HAVE_DNNL
// This oneDNN build uses OpenMP; omp_set_num_threads lives in the libgomp that libdnnl loads (looked up
// at run time, so the bench needs no OpenMP flags of its own).
void set_dnnl_threads(int threads) {
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) fn(threads);
}

// oneDNN matmul with the same epilogue: output scales (per column), bias, binary-add residual.
// The primitive and the weight reorder (to the layout oneDNN picks for format_tag::any) are done once.
void bench_dnnl(benchmark::State& state, Shape shape, int m, int threads, dnnl::memory::data_type src_type) {
  using namespace dnnl;
  using dt = memory::data_type;
  using tag = memory::format_tag;
  const int k = shape.k, n = shape.n;
  const bool is_int = src_type != dt::f32;
  set_dnnl_threads(threads);  // before the primitive is created: it plans its blocking for this count
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc src_md({m, k}, src_type, tag::ab);
  memory::desc w_any({k, n}, is_int ? dt::s8 : dt::f32, tag::any);
  memory::desc w_plain({k, n}, is_int ? dt::s8 : dt::f32, tag::ba);  // our [N][K] row-major
  memory::desc bias_md({1, n}, dt::f32, tag::ab);
  memory::desc dst_md({m, n}, dt::f32, tag::ab);
  primitive_attr attr;
  std::vector<float> scales = random_floats(n, 3);
  for (auto& s : scales) s = std::abs(s) * 0.02f + 1e-4f;
  if (is_int) attr.set_output_scales(1 << 1, scales);
  post_ops ops;
  ops.append_binary(algorithm::binary_add, dst_md);
  attr.set_post_ops(ops);
  matmul::desc desc(src_md, w_any, bias_md, dst_md);
  matmul::primitive_desc pd(desc, attr, eng);
  matmul prim(pd);

  std::vector<uint8_t> src_bytes(size_t(m) * k * (is_int ? 1 : 4));
  if (src_type == dt::u8) {
    auto v = random_values<uint8_t>(size_t(m) * k, 0, 255, 1);
    std::copy(v.begin(), v.end(), src_bytes.begin());
  } else if (src_type == dt::s8) {
    auto v = random_values<int8_t>(size_t(m) * k, -127, 127, 1);
    std::memcpy(src_bytes.data(), v.data(), v.size());
  } else {
    auto v = random_floats(size_t(m) * k, 1);
    std::memcpy(src_bytes.data(), v.data(), v.size() * 4);
  }
  memory src_mem(src_md, eng, src_bytes.data());
  memory w_mem(pd.weights_desc(), eng);
  std::vector<int8_t> w8;
  std::vector<float> wf;
  memory w_user = [&] {
    if (is_int) {
      w8 = random_values<int8_t>(size_t(n) * k, -127, 127, 2);
      return memory(w_plain, eng, w8.data());
    }
    wf = random_floats(size_t(n) * k, 2);
    return memory(w_plain, eng, wf.data());
  }();
  reorder(w_user, w_mem).execute(strm, w_user, w_mem);
  auto bias = random_floats(n, 4);
  auto residual = random_floats(size_t(m) * n, 5);
  std::vector<float> out(size_t(m) * n);
  memory bias_mem(bias_md, eng, bias.data()), dst_mem(dst_md, eng, out.data()),
      res_mem(dst_md, eng, residual.data());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_mem},
                                       {DNNL_ARG_WEIGHTS, w_mem},
                                       {DNNL_ARG_BIAS, bias_mem},
                                       {DNNL_ARG_DST, dst_mem},
                                       {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, res_mem}};
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
    benchmark::DoNotOptimize(out.data());
  }
  set_counters(state, double(m) * n * k, is_int ? llmnpu::PeakKind::Int8Dot : llmnpu::PeakKind::Fp32Fma,
               threads);
  state.SetLabel(pd.impl_info_str());
}
#endif

void register_all() {
  for (const Shape& shape : kShapes)
    for (int m : kRows)
      for (int threads : kThreads) {
        const std::string suffix = std::string("/") + shape.model + "/K:" + std::to_string(shape.k) +
                                   "/N:" + std::to_string(shape.n) + "/M:" + std::to_string(m) +
                                   "/threads:" + std::to_string(threads);
        // Matching clock_for(): CPU time of the benchmark thread for one thread, wall time for more.
        auto timing = threads == 1 ? +[](benchmark::internal::Benchmark*) {}
                                   : +[](benchmark::internal::Benchmark* b) { b->UseRealTime(); };
        // Every int8 implementation this CPU has beyond the scalar one (AMX, AVX-512 VNNI, AVX-VNNI).
        for (auto kernel :
             {llmnpu::Int8Kernel::Amx, llmnpu::Int8Kernel::Avx512Vnni, llmnpu::Int8Kernel::Avx2Vnni}) {
          if (!llmnpu::int8_kernel_available(kernel)) continue;
          benchmark::RegisterBenchmark(
              (std::string("ours_") + llmnpu::int8_kernel_name(kernel) + suffix).c_str(), bench_ours, shape,
              m, threads, kernel)
              ->Apply(timing);
        }
#ifdef LLMNPU_HAVE_DNNL
        using dt = dnnl::memory::data_type;
        benchmark::RegisterBenchmark(("dnnl_s8" + suffix).c_str(), bench_dnnl, shape, m, threads, dt::s8)
            ->Apply(timing);
        benchmark::RegisterBenchmark(("dnnl_u8" + suffix).c_str(), bench_dnnl, shape, m, threads, dt::u8)
            ->Apply(timing);
        benchmark::RegisterBenchmark(("dnnl_f32" + suffix).c_str(), bench_dnnl, shape, m, threads, dt::f32)
            ->Apply(timing);
#endif
      }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
