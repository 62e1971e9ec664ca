#include "core/cpu_features.h"

#include <cpuid.h>

#include <cstdlib>

#include "core/error.h"
#include "core/printable.h"

namespace llmnpu {

static CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  bool osxsave = c & (1u << 27);
  if (!osxsave) return f;
  unsigned xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  bool ymm_ok = (xlo & 0x6) == 0x6;
  bool zmm_ok = (xlo & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm_ok && (b & (1u << 5));
  f.avx512f = zmm_ok && (b & (1u << 16));
  f.avx512bw = zmm_ok && (b & (1u << 30));
  f.avx512vl = zmm_ok && (b & (1u << 31));
  f.avx512vnni = zmm_ok && (c & (1u << 11));
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = ymm_ok && (a & (1u << 4));
    f.avx512bf16 = zmm_ok && (a & (1u << 5));
  }
  if (!ymm_ok) f.fma = f.f16c = false;
  return f;
}

std::string forced_isa() {
  const char* env = std::getenv("LLMNPU_ISA");
  return env && *env ? env : "auto";
}

CpuFeatures cap_cpu_features(CpuFeatures f, const std::string& isa) {
  if (isa == "auto" || isa == "amx") return f;
  if (isa == "avx512-vnni") {
    check(f.has_avx512_vnni_path(), "LLMNPU_ISA=avx512-vnni, but this CPU has no AVX-512 VNNI");
    f.amx_allowed = false;
    return f;
  }
  if (isa == "avx2") {
    check(f.has_avx2_path(), "LLMNPU_ISA=avx2, but this CPU has no AVX2 + FMA");
    f.avx512f = f.avx512bw = f.avx512vl = f.avx512vnni = f.avx512bf16 = false;
    f.amx_allowed = false;
    return f;
  }
  check(isa == "scalar", "LLMNPU_ISA must be auto, amx, avx512-vnni, avx2 or scalar (got '",
        printable(isa, 40), "')");
  return CpuFeatures{.amx_allowed = false};
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = cap_cpu_features(detect(), forced_isa());
  return features;
}

}  // namespace llmnpu
