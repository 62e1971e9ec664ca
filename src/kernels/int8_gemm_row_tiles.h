#pragma once
// The driver shared by the int8 GEMMs built from 16-column x R-row register tiles (NEON, with or without
// the dot product): A is copied with its rows padded to whole groups of 4 k, the output is split into
// (panel, row chunk) units over the threads (plan_split), and each unit is walked tile by tile.
// Not a public header.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu::int8_detail {

// Internal linkage on purpose: the files that include this are compiled for different instruction sets
// (-march=...+dotprod or plain Armv8-A), and a shared inline copy from the wrong one would run on a core
// without those instructions.
namespace {

constexpr int kTileRows = 4;

// One R x 16 block of C, defined by each file that includes this (its instruction set's microkernel):
// Tile<R>::run(a, ld, panel, width, c, k4, g, row, col), R = 1..kTileRows: R rows of the padded A
// starting at `a` (row stride ld) against the 16 columns starting at c of a panel `width` columns wide
// (k4 groups of 4 k); the result block starts at (row, col) of C.
template <int R>
struct Tile {
  static void run(const int8_t* a, size_t lda, const int8_t* panel, int width, int c, int k4,
                  const GemmArgs& g, int row, int col);
};

inline void run_row_tiles(const GemmArgs& g, ThreadPool* pool) {
  constexpr int kRows = kTileRows;
  const PackedInt8Matrix& w = *g.w;
  const int threads = pool ? pool->size() : 1;
  const WorkSplit split = plan_split(g.m, w.panels, threads, kRows);
  // Rows padded with zeros to whole groups of 4 k, plus 16 bytes that vector loads may touch.
  const size_t ld = size_t(w.k4) * 4 + 16;
  thread_local std::vector<int8_t> copy;
  if (copy.size() < size_t(g.m) * ld) copy.resize(size_t(g.m) * ld);
  for (int r = 0; r < g.m; ++r) {
    int8_t* dst = copy.data() + size_t(r) * ld;
    std::memcpy(dst, g.a + size_t(r) * size_t(g.lda), size_t(w.k));
    std::memset(dst + w.k, 0, ld - size_t(w.k));
  }
  const int8_t* a = copy.data();
  auto work = [&](int, size_t unit_begin, size_t unit_end) {
    for (size_t u = unit_begin; u < unit_end; ++u) {
      const int panel = int(u) / split.row_chunks, chunk = int(u) % split.row_chunks;
      const int row_begin = chunk * split.chunk_rows, row_end = std::min(g.m, row_begin + split.chunk_rows);
      const int width = w.panel_width(panel);
      for (int c = 0; c < width; c += 16) {
        const int col = panel * PackedInt8Matrix::kPanelColumns + c;
        if (col >= w.n) break;
        for (int r = row_begin; r < row_end; r += kRows) {
          const int8_t* ar = a + size_t(r) * ld;
          switch (std::min(kRows, row_end - r)) {
            case 4: Tile<4>::run(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
            case 3: Tile<3>::run(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
            case 2: Tile<2>::run(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
            default: Tile<1>::run(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
          }
        }
      }
    }
  };
  if (pool && split.units > 1)
    pool->parallel_for(size_t(split.units), work);
  else
    work(0, 0, size_t(split.units));
}

// The epilogue of one R x 16 tile from its int32 sums (acc[r][j] for column col + j, r < R): store_one's
// operations in the same order, 4 columns per vector where all 16 columns exist.
template <int R>
void store_tile(const GemmArgs& g, const int32_t (*acc)[16], int row, int col) {
  const PackedInt8Matrix& w = *g.w;
  const Int8Epilogue& ep = *g.ep;
  if (col + 16 > w.n) {
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < 16 && col + j < w.n; ++j)
        store_one(ep, row + r, col + j, acc[r][j], g.a_scale * w.scales[col + j]);
    return;
  }
  float32x4_t scale[4], bias[4];
  for (int v = 0; v < 4; ++v) {
    scale[v] = vmulq_f32(vdupq_n_f32(g.a_scale), vld1q_f32(w.scales.data() + col + 4 * v));
    bias[v] = ep.bias ? vld1q_f32(ep.bias + col + 4 * v) : vdupq_n_f32(0.0f);
  }
  const float32x4_t inv = vdupq_n_f32(1.0f / ep.out_scale), lo = vdupq_n_f32(-127.0f),
                    hi = vdupq_n_f32(127.0f);
  for (int r = 0; r < R; ++r) {
    const size_t at = size_t(row + r) * size_t(ep.ld_out) + size_t(col);
    if (ep.out_i32) {
      for (int v = 0; v < 4; ++v) vst1q_s32(ep.out_i32 + at + 4 * v, vld1q_s32(acc[r] + 4 * v));
      continue;
    }
    int32x4_t rounded[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (int v = 0; v < 4; ++v) {
      const float32x4_t s = ep.row_scales ? vmulq_n_f32(scale[v], ep.row_scales[row + r]) : scale[v];
      float32x4_t x = vfmaq_f32(bias[v], vcvtq_f32_s32(vld1q_s32(acc[r] + 4 * v)), s);
      if (ep.residual)
        x = vaddq_f32(
            x, vld1q_f32(ep.residual + size_t(row + r) * size_t(ep.ld_residual) + size_t(col + 4 * v)));
      if (ep.out_f32) {
        vst1q_f32(ep.out_f32 + at + 4 * v, x);
      } else {
        // Clamp before rounding, NaN to -127 (as store_one's max/min order does), then to nearest even.
        rounded[v] = vcvtnq_s32_f32(vminnmq_f32(hi, vmaxnmq_f32(vmulq_f32(x, inv), lo)));
      }
    }
    if (ep.out_i8) {
      const int16x8_t h0 = vcombine_s16(vmovn_s32(rounded[0]), vmovn_s32(rounded[1]));
      const int16x8_t h1 = vcombine_s16(vmovn_s32(rounded[2]), vmovn_s32(rounded[3]));
      vst1q_s8(ep.out_i8 + at, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
    }
  }
}

}  // namespace

}  // namespace llmnpu::int8_detail
