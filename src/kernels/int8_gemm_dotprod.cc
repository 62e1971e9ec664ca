// aarch64 int8 GEMM with the Armv8.2 dot product (SDOT): a 4-row x 16-column register tile over the
// shared packed layout, where one 16-byte vector is 4 columns x 4 k, the operand of `sdot v.4s, w, a.4b[L]`
// against 4 k of one A row (lane L of a 16-byte load of 4 groups). Signed x signed, so no column-sum
// correction. Per 4 k: 16 sdot (256 MACs) and 4 weight loads, no other vector work.
#include <arm_neon.h>

#include <cstring>

#include "kernels/int8_gemm_row_tiles.h"

namespace llmnpu::int8_detail {
namespace {

// One group of 4 k for R rows against 16 columns: weights w (4 vectors of 4 columns x 4 k), A's 4 bytes
// as lane L of a[r] (16 bytes = 4 groups of one row).
template <int R, int L>
inline void step(int32x4_t (&acc)[R][4], const int8_t* w, const int8x16_t (&a)[R]) {
  const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
  for (int r = 0; r < R; ++r) {
    acc[r][0] = vdotq_laneq_s32(acc[r][0], w0, a[r], L);
    acc[r][1] = vdotq_laneq_s32(acc[r][1], w1, a[r], L);
    acc[r][2] = vdotq_laneq_s32(acc[r][2], w2, a[r], L);
    acc[r][3] = vdotq_laneq_s32(acc[r][3], w3, a[r], L);
  }
}

// One R x 16 block of C (run_row_tiles' Tile).
template <int R>
void Tile<R>::run(const int8_t* a, size_t lda, const int8_t* panel, int width, int c, int k4,
                  const GemmArgs& g, int row, int col) {
  int32x4_t acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) acc[r][v] = vdupq_n_s32(0);
  const size_t group = size_t(width) * 4;  // bytes from one group of 4 k to the next in the panel
  const int8_t* w = panel + size_t(c) * 4;
  int q = 0;
  // Four groups per A load: sdot's lane form takes each group's 4 bytes from the register (no broadcast).
  for (; q + 4 <= k4; q += 4, w += 4 * group) {
    int8x16_t av[R];
    for (int r = 0; r < R; ++r) av[r] = vld1q_s8(a + size_t(r) * lda + size_t(q) * 4);
    step<R, 0>(acc, w, av);
    step<R, 1>(acc, w + group, av);
    step<R, 2>(acc, w + 2 * group, av);
    step<R, 3>(acc, w + 3 * group, av);
  }
  for (; q < k4; ++q, w += group) {
    int8x16_t av[R];
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, a + size_t(r) * lda + size_t(q) * 4, 4);
      av[r] = vreinterpretq_s8_s32(vdupq_n_s32(four));
    }
    step<R, 0>(acc, w, av);
  }
  int32_t out[R][16];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < 4; ++v) vst1q_s32(out[r] + 4 * v, acc[r][v]);
  store_tile<R>(g, out, row, col);
}

}  // namespace

void gemm_neon_dotprod(const GemmArgs& args, ThreadPool* pool) { run_row_tiles(args, pool); }

}  // namespace llmnpu::int8_detail
