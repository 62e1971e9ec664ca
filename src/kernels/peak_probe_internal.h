#pragma once
// Instruction loops of the peak probe (one file per instruction set). Each runs `iterations` times a
// block of kPeakChains independent accumulations and returns the multiply-accumulates done.
#include <cstdint>

namespace llmnpu::peak_detail {

constexpr int kPeakChains = 16;  // > latency x issue width of any current core (5 x 2)

#if defined(__x86_64__)
uint64_t int8_dot_zmm(uint64_t iterations);
uint64_t fp32_fma_zmm(uint64_t iterations);
uint64_t int8_dot_ymm(uint64_t iterations);
uint64_t fp32_fma_ymm(uint64_t iterations);
#elif defined(__aarch64__)
uint64_t int8_dot_sdot(uint64_t iterations);  // peak_probe_dotprod.cc
uint64_t fp32_fma_neon(uint64_t iterations);  // peak_probe_neon.cc
#endif

}  // namespace llmnpu::peak_detail
