// The SDOT (Armv8.2 dot product) kernels of backend/int8_linear.cc: the decode GEMV over the packed panels
// and the int8 head's block-scaled GEMV. Declared in backend/int8_linear_kernels.h; the float operations
// are those of the portable versions, in the same order (bit-identical results).
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/int8_linear_kernels.h"

namespace llmnpu::int8_linear_detail {
namespace {

constexpr int kPanelVectors = PackedInt8Matrix::kPanelColumns / 4;  // int32x4 accumulators of a panel

// acc[v] += the 4 k of group (lane L of av) times the panel line `line` (v < nv: 4 columns each).
template <int L>
inline void dot_line(int32x4_t (&acc)[kPanelVectors], const int8_t* line, int nv, int8x16_t av) {
  for (int v = 0; v < nv; ++v) acc[v] = vdotq_laneq_s32(acc[v], vld1q_s8(line + 16 * v), av, L);
}

// The int32 sums of one panel against a (K padded with zeros to whole groups of 4, plus 16 bytes): each
// group's line of the panel read once, in order (one sequential stream per panel).
inline void panel_sums(const int8_t* a, const PackedInt8Matrix& w, int p, int32x4_t (&acc)[kPanelVectors]) {
  const int width = w.panel_width(p), nv = width / 4;
  const size_t line = size_t(width) * 4;
  const int8_t* row = w.panel(p);
  for (auto& v : acc) v = vdupq_n_s32(0);
  int g = 0;
  for (; g + 4 <= w.k4; g += 4, row += 4 * line) {
    const int8x16_t av = vld1q_s8(a + size_t(g) * 4);
    dot_line<0>(acc, row, nv, av);
    dot_line<1>(acc, row + line, nv, av);
    dot_line<2>(acc, row + 2 * line, nv, av);
    dot_line<3>(acc, row + 3 * line, nv, av);
  }
  for (; g < w.k4; ++g, row += line) {
    int32_t four;
    std::memcpy(&four, a + size_t(g) * 4, sizeof four);
    dot_line<0>(acc, row, nv, vreinterpretq_s8_s32(vdupq_n_s32(four)));
  }
}

}  // namespace

void gemv_panels_dotprod(const int8_t* a, const PackedInt8Matrix& w, float a_scale, const Int8Epilogue& ep,
                         int p0, int p1) {
  for (int p = p0; p < p1; ++p) {
    int32x4_t acc[kPanelVectors];
    panel_sums(a, w, p, acc);
    const int nv = w.panel_width(p) / 4;
    for (int v = 0; v < nv; ++v) {
      const int col = p * PackedInt8Matrix::kPanelColumns + 4 * v;
      if (col >= w.n) break;
      if (col + 4 <= w.n) {
        // int8_gemm's epilogue: fma(float(acc), a_scale * w_scale, bias) + residual.
        const float32x4_t scale = vmulq_f32(vdupq_n_f32(a_scale), vld1q_f32(w.scales.data() + col));
        const float32x4_t bias = ep.bias ? vld1q_f32(ep.bias + col) : vdupq_n_f32(0.0f);
        float32x4_t out = vfmaq_f32(bias, vcvtq_f32_s32(acc[v]), scale);
        if (ep.residual) out = vaddq_f32(out, vld1q_f32(ep.residual + col));
        vst1q_f32(ep.out_f32 + col, out);
      } else {
        int32_t sums[4];
        vst1q_s32(sums, acc[v]);
        for (int j = 0; col + j < w.n; ++j) {
          float out = std::fma(float(sums[j]), a_scale * w.scales[size_t(col + j)],
                               ep.bias ? ep.bias[col + j] : 0.0f);
          if (ep.residual) out = out + ep.residual[col + j];
          ep.out_f32[col + j] = out;
        }
      }
    }
  }
}

void head_gemv_panels_dotprod(const int8_t* q, const float* block_scales, const PackedInt8Matrix& w,
                              const uint16_t* weight_block_scales, const float* row_scales,
                              const float* residual, float* out, int p0, int p1) {
  const int blocks = (w.k4 + kHeadBlockK4 - 1) / kHeadBlockK4, half = blocks / 2;
  for (int p = p0; p < p1; ++p) {
    const int width = w.panel_width(p), nv = width / 4;
    const size_t line = size_t(width) * 4;
    // Two float sums per column, blocks [0, half) and [half, blocks), as the portable kernel keeps them.
    float32x4_t sum[2][kPanelVectors];
    for (auto& side : sum)
      for (auto& v : side) v = vdupq_n_f32(0.0f);
    for (int b = 0; b < blocks; ++b) {
      int32x4_t acc[kPanelVectors];
      for (auto& v : acc) v = vdupq_n_s32(0);
      const int g1 = std::min(w.k4, (b + 1) * kHeadBlockK4);
      for (int g = b * kHeadBlockK4; g < g1; ++g) {
        int32_t four;
        std::memcpy(&four, q + size_t(g) * 4, sizeof four);
        const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(four));
        const int8_t* row = w.panel(p) + size_t(g) * line;
        for (int v = 0; v < nv; ++v) acc[v] = vdotq_s32(acc[v], vld1q_s8(row + 16 * v), av);
      }
      const float32x4_t sb = vdupq_n_f32(block_scales[b]);
      const uint16_t* ws = weight_block_scales + (size_t(p) * size_t(blocks) + size_t(b)) * 64;
      float32x4_t* into = sum[b < half ? 0 : 1];
      for (int v = 0; v < nv; ++v) {
        const float32x4_t wsv = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(ws + 4 * v)));
        into[v] = vfmaq_f32(into[v], vcvtq_f32_s32(acc[v]), vmulq_f32(sb, wsv));
      }
    }
    for (int v = 0; v < nv; ++v) {
      const int col = p * PackedInt8Matrix::kPanelColumns + 4 * v;
      if (col >= w.n) break;
      const float32x4_t o = vmulq_f32(vaddq_f32(sum[0][v], sum[1][v]), vld1q_f32(row_scales + col));
      float lanes[4];
      vst1q_f32(lanes, o);
      for (int j = 0; j < 4 && col + j < w.n; ++j)
        out[col + j] = residual ? lanes[j] + residual[col + j] : lanes[j];
    }
  }
}

}  // namespace llmnpu::int8_linear_detail
