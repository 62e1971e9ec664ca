// LLMNPU_ISA caps the detected CPU features so every kernel family can run on one machine.
#include "core/cpu_features.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/int8_gemm.h"

namespace llmnpu {
namespace {

#if defined(__aarch64__)
CpuFeatures everything() {
  CpuFeatures f;
  f.neon = f.dotprod = f.i8mm = true;
  f.amx_allowed = false;
  return f;
}

TEST(CpuFeatures, IsaCapsKeepOnlyTheNamedFamily) {
  EXPECT_TRUE(cap_cpu_features(everything(), "auto").i8mm);
  EXPECT_TRUE(cap_cpu_features(everything(), "i8mm").i8mm);
  const CpuFeatures dot = cap_cpu_features(everything(), "dotprod");
  EXPECT_TRUE(dot.dotprod && dot.neon);
  EXPECT_FALSE(dot.i8mm);
  const CpuFeatures neon = cap_cpu_features(everything(), "neon");
  EXPECT_TRUE(neon.neon);
  EXPECT_FALSE(neon.dotprod || neon.i8mm);
  const CpuFeatures scalar = cap_cpu_features(everything(), "scalar");
  EXPECT_FALSE(scalar.neon || scalar.dotprod || scalar.i8mm);
}

TEST(CpuFeatures, IsaCapsRefuseUnknownNamesAndMissingFamilies) {
  EXPECT_THROW(cap_cpu_features(everything(), "avx2"), Error);  // an x86 family on Arm
  EXPECT_THROW(cap_cpu_features(CpuFeatures{}, "i8mm"), Error);
  EXPECT_THROW(cap_cpu_features(CpuFeatures{}, "dotprod"), Error);
  EXPECT_NO_THROW(cap_cpu_features(CpuFeatures{}, "scalar"));
}

TEST(CpuFeatures, TheProcessRunsTheForcedFamily) {
  const std::string isa = forced_isa();
  const Int8Kernel k = best_int8_kernel();
  if (isa == "scalar") {
    EXPECT_EQ(k, Int8Kernel::Scalar);
  } else if (isa == "neon") {
    EXPECT_EQ(k, Int8Kernel::Neon);
  } else if (isa == "dotprod") {
    EXPECT_EQ(k, Int8Kernel::NeonDotprod);
  } else if (isa == "i8mm") {
    EXPECT_EQ(k, Int8Kernel::NeonI8mm);
  }
}
#else
CpuFeatures everything() {
  CpuFeatures f;
  f.avx2 = f.fma = f.f16c = f.avx_vnni = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512vnni = f.avx512bf16 = true;
  return f;
}

TEST(CpuFeatures, IsaCapsKeepOnlyTheNamedFamily) {
  EXPECT_TRUE(cap_cpu_features(everything(), "auto").amx_allowed);
  EXPECT_TRUE(cap_cpu_features(everything(), "amx").has_avx512_vnni_path());
  const CpuFeatures vnni = cap_cpu_features(everything(), "avx512-vnni");
  EXPECT_TRUE(vnni.has_avx512_vnni_path());
  EXPECT_FALSE(vnni.amx_allowed);
  const CpuFeatures avx2 = cap_cpu_features(everything(), "avx2");
  EXPECT_TRUE(avx2.has_avx2_path());
  EXPECT_FALSE(avx2.avx512f || avx2.avx512vnni || avx2.amx_allowed);
  const CpuFeatures scalar = cap_cpu_features(everything(), "scalar");
  EXPECT_FALSE(scalar.avx2 || scalar.fma || scalar.f16c || scalar.avx512f || scalar.amx_allowed);
}

TEST(CpuFeatures, IsaCapsRefuseUnknownNamesAndMissingFamilies) {
  EXPECT_THROW(cap_cpu_features(everything(), "avx1024"), Error);
  EXPECT_THROW(cap_cpu_features(CpuFeatures{}, "avx512-vnni"), Error);
  EXPECT_THROW(cap_cpu_features(CpuFeatures{}, "avx2"), Error);
  EXPECT_NO_THROW(cap_cpu_features(CpuFeatures{}, "scalar"));
}

TEST(CpuFeatures, TheProcessRunsTheForcedFamily) {
  // ctest runs the core, kernel, quant and runtime suites again under LLMNPU_ISA=avx2 and scalar.
  const std::string isa = forced_isa();
  const Int8Kernel k = best_int8_kernel();
  if (isa == "scalar") {
    EXPECT_EQ(k, Int8Kernel::Scalar);
  } else if (isa == "avx2") {
    EXPECT_TRUE(k == Int8Kernel::Avx2 || k == Int8Kernel::Avx2Vnni);
  } else if (isa == "avx512-vnni") {
    EXPECT_EQ(k, Int8Kernel::Avx512Vnni);
  }
}
#endif

}  // namespace
}  // namespace llmnpu
