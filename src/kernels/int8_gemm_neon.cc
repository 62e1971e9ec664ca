// aarch64 int8 GEMM for CPUs without the dot product (Armv8.0 NEON): the same 4-row x 16-column tile as
// the SDOT kernel, each 4 columns x 4 k multiplied with widening multiplies (smull/smull2 to 16 bits),
// pair-added (addp; |a| <= 128 and |w| <= 127 keep a pair within 16 bits) and accumulated into 32 bits
// with sadalp.
#include <arm_neon.h>

#include <cstring>

#include "kernels/int8_gemm_row_tiles.h"

namespace llmnpu::int8_detail {
namespace {

inline int32x4_t dot4(int32x4_t acc, int8x16_t w, int8x16_t b) {
  const int16x8_t lo = vmull_s8(vget_low_s8(w), vget_low_s8(b));  // columns 0, 1 x 4 k
  const int16x8_t hi = vmull_high_s8(w, b);                       // columns 2, 3 x 4 k
  return vpadalq_s16(acc, vpaddq_s16(lo, hi));
}

// One R x 16 block of C (run_row_tiles' Tile).
template <int R>
void Tile<R>::run(const int8_t* a, size_t lda, const int8_t* panel, int width, int c, int k4,
                  const GemmArgs& g, int row, int col) {
  int32x4_t acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) acc[r][v] = vdupq_n_s32(0);
  const int8_t* w = panel + size_t(c) * 4;
  for (int q = 0; q < k4; ++q, w += size_t(width) * 4) {
    const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, a + size_t(r) * lda + size_t(q) * 4, 4);
      const int8x16_t b = vreinterpretq_s8_s32(vdupq_n_s32(four));
      acc[r][0] = dot4(acc[r][0], w0, b);
      acc[r][1] = dot4(acc[r][1], w1, b);
      acc[r][2] = dot4(acc[r][2], w2, b);
      acc[r][3] = dot4(acc[r][3], w3, b);
    }
  }
  int32_t out[R][16];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) vst1q_s32(out[r] + 4 * v, acc[r][v]);
  store_tile<R>(g, out, row, col);
}

}  // namespace

void gemm_neon(const GemmArgs& args, ThreadPool* pool) { run_row_tiles(args, pool); }

}  // namespace llmnpu::int8_detail
