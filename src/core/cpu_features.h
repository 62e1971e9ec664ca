#pragma once
// What the CPU can do, read once at run time (kernels dispatch on this, not on compile flags).
namespace llmnpu {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512bf16 = false;
  bool has_avx512_vnni_path() const { return avx512f && avx512bw && avx512vl && avx512vnni; }
  bool has_avx2_path() const { return avx2 && fma; }
};

const CpuFeatures& cpu_features();

}  // namespace llmnpu
