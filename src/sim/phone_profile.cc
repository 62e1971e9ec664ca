// The phone profile of the paper's device class (Snapdragon 8 Gen 3). docs/simulator.md derives each
// number; sim/profiles/phone-snapdragon-8gen3.json holds the same profile (a test keeps them equal).
#include "sim/device_profile.h"

namespace llmnpu::sim {

namespace {

// Effective NPU int8 rate: set so that the simulated Qwen1.5-1.8B prefill (prompt 1024, chunk 256, ooo)
// reaches the paper's ">1000 tokens/s" (docs/simulator.md, calibration).
constexpr double kNpuInt8 = 1400;
// Microbenchmark of the paper: NPU-INT8 0.9 ms, CPU-INT8 4.2 ms, NPU-FP16 252 ms for the same matmul.
constexpr double kCpuInt8 = kNpuInt8 * 0.9 / 4.2;
constexpr double kNpuFloat = kNpuInt8 * 0.9 / 252;
// CPU float: the ablation's CPU-only 65 tokens/s for Qwen1.5-1.8B at prompt 512 x 1.239 GMAC per token.
constexpr double kCpuFloat = 80;

}  // namespace

DeviceProfile phone_profile() {
  DeviceProfile d;
  d.name = "phone-snapdragon-8gen3";
  d.description =
      "Snapdragon 8 Gen 3 class phone (Hexagon NPU + Kryo CPU), derived from the mllm-NPU paper's "
      "microbenchmarks and end-to-end numbers; see docs/simulator.md";
  d.accelerator = {"NPU (Hexagon, int8)", kNpuInt8, kNpuFloat, std::nullopt, 150e-6, 100e-6, 1.5, 0.05};
  d.host = {"CPU (big cores, float)", kCpuInt8, kCpuFloat, std::nullopt, 20e-6, 50e-6, 4.0, 0.2};
  d.homogeneous =
      ProcessorProfile{"CPU only (big cores)", kCpuInt8, kCpuFloat, std::nullopt, 20e-6, 0, 4.0, 0.2};
  d.attention_efficiency = 1.0;
  d.notes = {
      "accelerator.int8_gmacs: calibrated so Qwen1.5-1.8B, prompt 1024, chunk 256, ooo gives the paper's "
      ">1000 "
      "tokens/s",
      "host.int8_gmacs = accelerator.int8_gmacs x 0.9 ms / 4.2 ms (paper microbenchmark NPU-INT8 vs "
      "CPU-INT8)",
      "accelerator.float_gmacs = accelerator.int8_gmacs x 0.9 ms / 252 ms (NPU-INT8 vs NPU-FP16)",
      "host.float_gmacs: paper ablation, CPU-only Qwen1.5-1.8B prefill 65 tokens/s x 1.239 GMAC/token",
      "launch_s, sync_s, busy_w, idle_w, attention_efficiency: assumptions (docs/simulator.md)"};
  return d;
}

}  // namespace llmnpu::sim
