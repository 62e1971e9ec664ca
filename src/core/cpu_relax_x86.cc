#include <immintrin.h>

#include "core/cpu_relax.h"

namespace llmnpu {

void cpu_relax() { _mm_pause(); }

}  // namespace llmnpu
