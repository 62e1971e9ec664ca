#pragma once
// A spin-wait hint to the core (pause on x86-64, yield on aarch64): one per few polls of a flag.

namespace llmnpu {

void cpu_relax();  // cpu_relax_x86.cc, cpu_relax_arm.cc

}  // namespace llmnpu
