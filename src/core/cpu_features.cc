#include "core/cpu_features.h"

#include <cstdlib>

#include "core/error.h"
#include "core/printable.h"

namespace llmnpu {

std::string forced_isa() {
  const char* env = std::getenv("LLMNPU_ISA");
  return env && *env ? env : "auto";
}

CpuFeatures cap_cpu_features(CpuFeatures f, const std::string& isa) {
  if (isa == "auto") return f;
#if defined(__aarch64__)
  if (isa == "i8mm") {
    check(f.i8mm, "LLMNPU_ISA=i8mm, but this CPU has no int8 matrix multiply (i8mm)");
    return f;
  }
  if (isa == "dotprod") {
    check(f.dotprod, "LLMNPU_ISA=dotprod, but this CPU has no dot product (asimddp)");
    f.i8mm = false;
    return f;
  }
  if (isa == "neon") {
    check(f.neon, "LLMNPU_ISA=neon, but this CPU has no Advanced SIMD");
    f.i8mm = f.dotprod = false;
    return f;
  }
  check(isa == "scalar", "LLMNPU_ISA must be auto, i8mm, dotprod, neon or scalar on this CPU (got '",
        printable(isa, 40), "')");
  return CpuFeatures{.amx_allowed = false};
#else
  if (isa == "amx") return f;
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
#endif
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = cap_cpu_features(detect_cpu_features(), forced_isa());
  return features;
}

}  // namespace llmnpu
