// Peak-probe loop of the Armv8.2 dot product: 16 accumulators (v0-v15) fed by v16/v17.
#include "kernels/peak_probe_internal.h"

namespace llmnpu::peak_detail {

// 16 accumulators x sdot (4 int32 lanes x 4 byte products).
uint64_t int8_dot_sdot(uint64_t iterations) {
  if (iterations == 0) return 0;
  uint64_t n = iterations;
  __asm__ volatile(
      "movi v0.4s, #0\n\t"
      "movi v1.4s, #0\n\t"
      "movi v2.4s, #0\n\t"
      "movi v3.4s, #0\n\t"
      "movi v4.4s, #0\n\t"
      "movi v5.4s, #0\n\t"
      "movi v6.4s, #0\n\t"
      "movi v7.4s, #0\n\t"
      "movi v8.4s, #0\n\t"
      "movi v9.4s, #0\n\t"
      "movi v10.4s, #0\n\t"
      "movi v11.4s, #0\n\t"
      "movi v12.4s, #0\n\t"
      "movi v13.4s, #0\n\t"
      "movi v14.4s, #0\n\t"
      "movi v15.4s, #0\n\t"
      "movi v16.4s, #1\n\t"
      "movi v17.4s, #1\n\t"
      "1:\n\t"
      "sdot v0.4s, v16.16b, v17.16b\n\t"
      "sdot v1.4s, v16.16b, v17.16b\n\t"
      "sdot v2.4s, v16.16b, v17.16b\n\t"
      "sdot v3.4s, v16.16b, v17.16b\n\t"
      "sdot v4.4s, v16.16b, v17.16b\n\t"
      "sdot v5.4s, v16.16b, v17.16b\n\t"
      "sdot v6.4s, v16.16b, v17.16b\n\t"
      "sdot v7.4s, v16.16b, v17.16b\n\t"
      "sdot v8.4s, v16.16b, v17.16b\n\t"
      "sdot v9.4s, v16.16b, v17.16b\n\t"
      "sdot v10.4s, v16.16b, v17.16b\n\t"
      "sdot v11.4s, v16.16b, v17.16b\n\t"
      "sdot v12.4s, v16.16b, v17.16b\n\t"
      "sdot v13.4s, v16.16b, v17.16b\n\t"
      "sdot v14.4s, v16.16b, v17.16b\n\t"
      "sdot v15.4s, v16.16b, v17.16b\n\t"
      "subs %x0, %x0, #1\n\t"
      "b.ne 1b\n\t"
      : "+r"(n)
      :
      : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15",
        "v16", "v17", "cc");
  return iterations * 16 * 16;
}

}  // namespace llmnpu::peak_detail
