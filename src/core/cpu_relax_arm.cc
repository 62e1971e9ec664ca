#include "core/cpu_relax.h"

namespace llmnpu {

void cpu_relax() { __asm__ volatile("yield"); }

}  // namespace llmnpu
