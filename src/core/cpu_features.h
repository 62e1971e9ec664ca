#pragma once
// What the CPU can do, read once at run time (kernels dispatch on this, not on compile flags).
// LLMNPU_ISA caps it for the whole process, so one machine can run every kernel family end to end:
//   x86-64:  auto (default) | amx | avx512-vnni (no AMX) | avx2 (no AVX-512) | scalar (no SIMD kernels)
//   aarch64: auto (default) | i8mm | dotprod (no i8mm) | neon (no dot product) | scalar
#include <string>

namespace llmnpu {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512bf16 = false;
  bool amx_allowed = true;  // AMX tiles may be used when the OS grants them (LLMNPU_ISA can forbid it)
  // aarch64 (HWCAP): Advanced SIMD, the SDOT/UDOT dot product, the SMMLA int8 matrix multiply.
  bool neon = false, dotprod = false, i8mm = false;
  bool has_avx512_vnni_path() const { return avx512f && avx512bw && avx512vl && avx512vnni; }
  bool has_avx2_path() const { return avx2 && fma; }
};

// What this CPU reports (cpu_features_x86.cc: cpuid and xgetbv; cpu_features_arm.cc: HWCAP).
CpuFeatures detect_cpu_features();

// The detected features capped by LLMNPU_ISA; throws Error for an unknown value or a family this CPU
// lacks.
const CpuFeatures& cpu_features();
// The LLMNPU_ISA value in effect ("auto" when unset).
std::string forced_isa();
// detected capped to the family `isa` names (exposed for tests).
CpuFeatures cap_cpu_features(CpuFeatures detected, const std::string& isa);

}  // namespace llmnpu
