// aarch64 feature detection from the kernel's HWCAP words (getauxval: glibc and Android's bionic alike).
#include <sys/auxv.h>

#include "core/cpu_features.h"

namespace llmnpu {
namespace {
// The bits of <asm/hwcap.h>, spelled out: older headers lack the newer ones.
constexpr unsigned long kHwcapAsimd = 1ul << 1;
constexpr unsigned long kHwcapAsimdDp = 1ul << 20;
constexpr unsigned long kHwcap2I8mm = 1ul << 13;
}  // namespace

CpuFeatures detect_cpu_features() {
  CpuFeatures f;
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  f.neon = hwcap & kHwcapAsimd;
  f.dotprod = f.neon && (hwcap & kHwcapAsimdDp);
  f.i8mm = f.dotprod && (hwcap2 & kHwcap2I8mm);
  f.amx_allowed = false;
  return f;
}

}  // namespace llmnpu
