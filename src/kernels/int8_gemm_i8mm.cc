// aarch64 int8 GEMM with the Armv8.6 int8 matrix multiply (SMMLA, FEAT_I8MM): `smmla v.4s, a.16b, b.16b`
// multiplies a 2-row x 8-k block of A by an 8-k x 2-column block of W into a 2 x 2 int32 block, 32 MACs
// per instruction (twice SDOT's 16). It reads the shared packed layout, where one 16-byte vector is 4
// columns x 4 k: zipping the 32-bit lanes of two consecutive groups of 4 k gives columns (c, c+1) and
// (c+2, c+3) with 8 k each, SMMLA's W operand. A rows come in pairs, 8 bytes of each. Tile: 4 rows x 16
// columns = 2 row pairs x 8 column pairs, 16 accumulators; per 8 k: 8 weight loads, 8 zips, 4 A loads,
// 16 SMMLA (512 MACs). Signed x signed: no column-sum correction, results bit-identical to the reference.
#include <arm_neon.h>

#include "kernels/int8_gemm_row_tiles.h"

namespace llmnpu::int8_detail {
namespace {

// 8 bytes of row r0 and 8 of row r1 at the same k: SMMLA's A operand for a row pair.
inline int8x16_t row_pair(const int8_t* r0, const int8_t* r1) {
  return vcombine_s8(vld1_s8(r0), vld1_s8(r1));
}

// One R x 16 block of C (run_row_tiles' Tile). Odd R: the last pair repeats its row, and the repeat's
// results are dropped.
template <int R>
void Tile<R>::run(const int8_t* a, size_t lda, const int8_t* panel, int width, int c, int k4,
                  const GemmArgs& g, int row, int col) {
  constexpr int kPairs = (R + 1) / 2;
  const int8_t* rows[2 * kPairs];
  for (int r = 0; r < 2 * kPairs; ++r) rows[r] = a + size_t(r < R ? r : R - 1) * lda;
  int32x4_t acc[kPairs][8];  // [row pair][column pair]: {r0 c0, r0 c1, r1 c0, r1 c1}
  for (auto& pair : acc)
    for (auto& v : pair) v = vdupq_n_s32(0);
  const size_t group = size_t(width) * 4;  // bytes from one group of 4 k to the next in the panel
  const int8_t* w = panel + size_t(c) * 4;
  // A operand of each row pair for 8 k starting at 4q; the padded copy holds 16 zero bytes past K, so
  // the last odd group reads zeros as its partner.
  auto multiply = [&](int q, const int32x4_t(&lo)[4], const int32x4_t(&hi)[4]) {
    int8x16_t av[kPairs];
    for (int p = 0; p < kPairs; ++p)
      av[p] = row_pair(rows[2 * p] + size_t(q) * 4, rows[2 * p + 1] + size_t(q) * 4);
    for (int v = 0; v < 4; ++v) {
      const int8x16_t even = vreinterpretq_s8_s32(vzip1q_s32(lo[v], hi[v]));  // columns 4v, 4v+1
      const int8x16_t odd = vreinterpretq_s8_s32(vzip2q_s32(lo[v], hi[v]));   // columns 4v+2, 4v+3
      for (int p = 0; p < kPairs; ++p) {
        acc[p][2 * v] = vmmlaq_s32(acc[p][2 * v], av[p], even);
        acc[p][2 * v + 1] = vmmlaq_s32(acc[p][2 * v + 1], av[p], odd);
      }
    }
  };
  int q = 0;
  for (; q + 2 <= k4; q += 2, w += 2 * group) {
    int32x4_t lo[4], hi[4];
    for (int v = 0; v < 4; ++v) {
      lo[v] = vreinterpretq_s32_s8(vld1q_s8(w + 16 * v));
      hi[v] = vreinterpretq_s32_s8(vld1q_s8(w + group + 16 * v));
    }
    multiply(q, lo, hi);
  }
  if (q < k4) {  // an odd group count: the last group with zero weights as its partner
    int32x4_t lo[4], hi[4];
    for (int v = 0; v < 4; ++v) {
      lo[v] = vreinterpretq_s32_s8(vld1q_s8(w + 16 * v));
      hi[v] = vdupq_n_s32(0);
    }
    multiply(q, lo, hi);
  }
  // Column pairs (2v, 2v+1) of a row pair hold columns 4v..4v+3 of both rows, as 64-bit halves per row.
  int32_t out[2 * kPairs][16];
  for (int p = 0; p < kPairs; ++p)
    for (int v = 0; v < 4; ++v) {
      const int64x2_t e = vreinterpretq_s64_s32(acc[p][2 * v]), o = vreinterpretq_s64_s32(acc[p][2 * v + 1]);
      vst1q_s32(out[2 * p] + 4 * v, vreinterpretq_s32_s64(vzip1q_s64(e, o)));
      vst1q_s32(out[2 * p + 1] + 4 * v, vreinterpretq_s32_s64(vzip2q_s64(e, o)));
    }
  store_tile<R>(g, out, row, col);
}

}  // namespace

void gemm_neon_i8mm(const GemmArgs& args, ThreadPool* pool) { run_row_tiles(args, pool); }

}  // namespace llmnpu::int8_detail
