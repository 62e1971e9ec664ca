#include <gtest/gtest.h>

#include <string>

#include "core/cpu_features.h"
#include "kernels/peak_probe.h"

namespace llmnpu {
namespace {

TEST(PeakProbe, MeasuresWhatTheCpuHas) {
  // Thread CPU time: on shared cores the wall clock also counts other processes' time slices (the wall
  // version failed this ratio under load), the CPU-time rate does not.
  const double int8 = measure_peak_gmacs(PeakKind::Int8Dot, 1, 0.01, PeakClock::ThreadCpu);
  const double fp32 = measure_peak_gmacs(PeakKind::Fp32Fma, 1, 0.01, PeakClock::ThreadCpu);
  const CpuFeatures& f = cpu_features();
  if (f.avx2 && f.fma) {
    EXPECT_GT(fp32, 1.0);
    EXPECT_NE(std::string(peak_instruction(PeakKind::Fp32Fma)), "none");
  }
  if (f.neon) {
    EXPECT_GT(fp32, 0.0);
    EXPECT_EQ(std::string(peak_instruction(PeakKind::Fp32Fma)), "fmla v.4s");
  }
  if (f.has_avx512_vnni_path() || f.avx_vnni) {
    // Four byte products per 32-bit lane against one per fp32 lane, same vector width: the int8 rate
    // is about 4x; 2x leaves room for a busy neighbour core.
    EXPECT_GT(int8, 2.0 * fp32);
  } else if (f.dotprod) {
    EXPECT_GT(int8, 0.0);  // (an emulator's rates say nothing of the hardware's: no ratio asked)
    EXPECT_EQ(std::string(peak_instruction(PeakKind::Int8Dot)), "sdot v.4s");
  } else {
    EXPECT_EQ(int8, 0.0);
  }
  EXPECT_EQ(measure_peak_gmacs(PeakKind::Int8Dot, 0), 0.0);
  EXPECT_EQ(peak_gmacs(PeakKind::Fp32Fma, 1), peak_gmacs(PeakKind::Fp32Fma, 1));  // remembered
}

}  // namespace
}  // namespace llmnpu
