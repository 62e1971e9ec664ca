// The AVX-512 kernels of backend/int8_linear.cc: the F16 shadow rows, the decode GEMV over the packed
// panels (vpdpbusd) and the int8 head's block-scaled GEMV. Declared in backend/int8_linear_kernels.h.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "backend/int8_linear_kernels.h"
#include "core/half.h"

namespace llmnpu::int8_linear_detail {
namespace {

// GCC 12 flags the intrinsics' undefined pass-through registers as maybe-uninitialized when they are
// used under a target attribute (false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// _mm512_cvtph_ps through the zero-masked form: GCC 12 warns about the plain form's undefined
// pass-through register when it is used under a target attribute.
__attribute__((target("avx512f,f16c"))) inline __m512 cvt16(__m256i h) {
  return _mm512_maskz_cvtph_ps(0xffff, h);
}

}  // namespace

// The shadow sum of one output row: d[n] = the entries' value_i * W_i[n] chained with fma from zero, in
// entry order, for n0 <= n < n1 (W_i an F16 weight row, converted in registers). kAdd: y[n] = y[n] + d[n]
// in the same pass (inline placement); else y[n] = d[n] (the host's part, merged later with the same add).
template <bool kAdd>
__attribute__((target("avx512f,f16c,fma"))) void shadow_rows_avx512(const kernels::OutlierEntry* e,
                                                                    const uint16_t* const* rows, size_t count,
                                                                    int n0, int n1, float* y) {
  auto finish = [&](float* at, __m512 d) {
    _mm512_storeu_ps(at, kAdd ? _mm512_add_ps(_mm512_loadu_ps(at), d) : d);
  };
  int n = n0;
  for (; n + 64 <= n1; n += 64) {
    __m512 d0 = _mm512_setzero_ps(), d1 = _mm512_setzero_ps(), d2 = _mm512_setzero_ps(),
           d3 = _mm512_setzero_ps();
    for (size_t i = 0; i < count; ++i) {
      const __m512 v = _mm512_set1_ps(e[i].value);
      const uint16_t* w = rows[i] + n;
      d0 = _mm512_fmadd_ps(v, cvt16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))), d0);
      d1 = _mm512_fmadd_ps(v, cvt16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16))), d1);
      d2 = _mm512_fmadd_ps(v, cvt16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32))), d2);
      d3 = _mm512_fmadd_ps(v, cvt16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 48))), d3);
    }
    finish(y + n, d0);
    finish(y + n + 16, d1);
    finish(y + n + 32, d2);
    finish(y + n + 48, d3);
  }
  for (; n + 16 <= n1; n += 16) {
    __m512 d0 = _mm512_setzero_ps();
    for (size_t i = 0; i < count; ++i)
      d0 = _mm512_fmadd_ps(_mm512_set1_ps(e[i].value),
                           cvt16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + n))), d0);
    finish(y + n, d0);
  }
  for (; n < n1; ++n) {
    float d = 0;
    for (size_t i = 0; i < count; ++i) d = std::fma(e[i].value, half_to_float(rows[i][n]), d);
    y[n] = kAdd ? y[n] + d : d;
  }
}

// Decode (one row) straight over the packed panels: each panel's weights are read once with aligned loads
// (as four streams, below), four vpdpbusd per group of 4 k; threads take runs of panels. The
// epilogue performs the int8_gemm epilogue's float operations in the same order (bit-identical results).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void gemv_panels_avx512(
    const uint8_t* a, const PackedInt8Matrix& w, float a_scale, const Int8Epilogue& ep, int p0, int p1) {
  const int32_t* a4 = reinterpret_cast<const int32_t*>(a);
  for (int p = p0; p < p1; ++p) {
    const int width = w.panel_width(p), nv = width / 16;
    const int8_t* panel = w.panel(p);
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                      _mm512_setzero_si512()};
    if (nv == 4) {
      // The four quarters of the panel's K range are read as four streams at once: one sequential
      // stream per thread leaves DRAM bandwidth unused (measured here with 2 threads: 16 GB/s with one
      // stream each, 25 with two, 26-29 with four or more). Integer sums: the same result in any order.
      constexpr int kStreams = 4;
      const int part = w.k4 / kStreams;
      __m512i c[kStreams][4];
      for (auto& stream : c)
        for (auto& v : stream) v = _mm512_setzero_si512();
      for (int k = 0; k < part; ++k) {
#pragma GCC unroll 4
        for (int st = 0; st < kStreams; ++st) {
          const __m512i av = _mm512_set1_epi32(a4[st * part + k]);
          const int8_t* row = panel + (size_t(st) * size_t(part) + size_t(k)) * 256;
          c[st][0] = _mm512_dpbusd_epi32(c[st][0], av, _mm512_load_si512(row));
          c[st][1] = _mm512_dpbusd_epi32(c[st][1], av, _mm512_load_si512(row + 64));
          c[st][2] = _mm512_dpbusd_epi32(c[st][2], av, _mm512_load_si512(row + 128));
          c[st][3] = _mm512_dpbusd_epi32(c[st][3], av, _mm512_load_si512(row + 192));
        }
      }
      for (int k = kStreams * part; k < w.k4; ++k) {  // the last k4 % 4 groups
        const __m512i av = _mm512_set1_epi32(a4[k]);
        const int8_t* row = panel + size_t(k) * 256;
        for (int v = 0; v < 4; ++v)
          c[0][v] = _mm512_dpbusd_epi32(c[0][v], av, _mm512_load_si512(row + 64 * v));
      }
      for (int v = 0; v < 4; ++v)
        acc[v] = _mm512_add_epi32(_mm512_add_epi32(c[0][v], c[1][v]), _mm512_add_epi32(c[2][v], c[3][v]));
    } else {
      for (int k = 0; k < w.k4; ++k) {
        const __m512i av = _mm512_set1_epi32(a4[k]);
        const int8_t* row = panel + size_t(k) * size_t(width) * 4;
        for (int v = 0; v < nv; ++v)
          acc[v] = _mm512_dpbusd_epi32(acc[v], av, _mm512_load_si512(row + 64 * v));
      }
    }
    for (int v = 0; v < nv; ++v) {
      const int col = p * PackedInt8Matrix::kPanelColumns + v * 16;
      if (col >= w.n) break;
      const __mmask16 m = w.n - col >= 16 ? __mmask16(0xffff) : __mmask16((1u << (w.n - col)) - 1);
      const __m512i sums = _mm512_load_si512(w.column_sums.data() + col);
      const __m512i exact = _mm512_sub_epi32(acc[v], _mm512_slli_epi32(sums, 7));
      const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(a_scale), _mm512_load_ps(w.scales.data() + col));
      const __m512 bias = ep.bias ? _mm512_maskz_loadu_ps(m, ep.bias + col) : _mm512_setzero_ps();
      __m512 out = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scale, bias);
      if (ep.residual) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(m, ep.residual + col));
      _mm512_mask_storeu_ps(ep.out_f32 + col, m, out);
    }
  }
}

void gemv_operand_avx512(const int8_t* a, int k, size_t padded, uint8_t* out) {
  for (int i = 0; i < k; ++i) out[i] = uint8_t(a[i]) ^ 0x80;
  for (size_t i = size_t(k); i < padded; ++i) out[i] = 0x80;  // padding weights are 0
}

void head_operand_avx512(const int8_t* q, int k4, uint8_t* mag, uint64_t* signs) {
  for (int g = 0; g < k4; ++g) {
    uint64_t pattern = 0;
    for (int j = 0; j < 4; ++j) {
      const int8_t v = q[g * 4 + j];
      mag[g * 4 + j] = uint8_t(v < 0 ? -v : v);
      pattern |= uint64_t(v < 0 ? 1 : 0) << j;
    }
    signs[g] = pattern * 0x1111111111111111ull;  // the 4-bit pattern in every 4-byte lane
  }
}

constexpr int kHeadPrefetchGroups = 16;  // how far ahead the head's GEMV asks for its weight lines

// The head's decode GEMV: activations in blocks of kHeadBlockK4 groups of 4 with one float scale each
// (int32 dot per block, then scaled and summed in fp32), magnitudes times sign-applied weights.
// out[n] = row_scale[n] * sum_b act_scale_b * rel_scale_b(n) * dot_b(n) (+ residual[n]); the weight
// block scales are F16 fractions of the row's largest one (half the bytes of fp32 scales, all streamed).
__attribute__((target("avx512f,avx512bw,avx512vnni,f16c"))) void head_gemv_panels_avx512(
    const uint8_t* mag, const uint64_t* signs, const float* block_scales, const PackedInt8Matrix& w,
    const uint16_t* weight_block_scales, const float* row_scales, const float* residual, float* out, int p0,
    int p1) {
  const int blocks = (w.k4 + kHeadBlockK4 - 1) / kHeadBlockK4;
  const int32_t* a4 = reinterpret_cast<const int32_t*>(mag);
  const __m512i zero = _mm512_setzero_si512();
  for (int p = p0; p < p1; ++p) {
    const int width = w.panel_width(p), nv = width / 16;
    const int8_t* panel = w.panel(p);
    // Blocks [0, half) and [half, blocks) are read as two streams at once (see gemv_panels_avx512),
    // into two float sums added at the end.
    __m512 f[2][4];
    for (auto& side : f)
      for (auto& x : side) x = _mm512_setzero_ps();
    auto scale_into = [&](int b, const __m512i* acc, __m512* sum) {
      const __m512 sb = _mm512_set1_ps(block_scales[b]);
      const uint16_t* ws = weight_block_scales + (size_t(p) * size_t(blocks) + size_t(b)) * 64;
      for (int v = 0; v < nv; ++v) {
        const __m512 wsv = cvt16(_mm256_load_si256(reinterpret_cast<const __m256i*>(ws + 16 * v)));
        sum[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[v]), _mm512_mul_ps(sb, wsv), sum[v]);
      }
    };
    auto group = [&](int g, __m512i* acc) {
      const __m512i av = _mm512_set1_epi32(a4[g]);
      const __mmask64 neg = signs[g];
      const int8_t* row = panel + size_t(g) * size_t(width) * 4;
      // Two streams leave DRAM idle between a stream's misses: ask for its lines 16 groups (4 KiB) ahead.
      if (g + kHeadPrefetchGroups < w.k4)
        for (int v = 0; v < nv; ++v)
          _mm_prefetch(
              reinterpret_cast<const char*>(row + size_t(kHeadPrefetchGroups) * size_t(width) * 4 + 64 * v),
              _MM_HINT_T0);
      for (int v = 0; v < nv; ++v) {
        const __m512i wv = _mm512_load_si512(row + 64 * v);
        acc[v] = _mm512_dpbusd_epi32(acc[v], av, _mm512_mask_sub_epi8(wv, neg, zero, wv));
      }
    };
    const int half = blocks / 2;
    for (int b = 0; b < half; ++b) {
      const int lo0 = b * kHeadBlockK4, hi0 = (half + b) * kHeadBlockK4;
      const int lo_n = std::min(w.k4 - lo0, kHeadBlockK4), hi_n = std::min(w.k4 - hi0, kHeadBlockK4);
      __m512i lo[4] = {zero, zero, zero, zero}, hi[4] = {zero, zero, zero, zero};
      for (int j = 0; j < kHeadBlockK4; ++j) {
        if (j < lo_n) group(lo0 + j, lo);
        if (j < hi_n) group(hi0 + j, hi);
      }
      scale_into(b, lo, f[0]);
      scale_into(half + b, hi, f[1]);
    }
    for (int b = 2 * half; b < blocks; ++b) {  // an odd block count: the last one
      __m512i acc[4] = {zero, zero, zero, zero};
      for (int g = b * kHeadBlockK4; g < std::min(w.k4, (b + 1) * kHeadBlockK4); ++g) group(g, acc);
      scale_into(b, acc, f[1]);
    }
    for (int v = 0; v < nv; ++v) f[0][v] = _mm512_add_ps(f[0][v], f[1][v]);
    for (int v = 0; v < nv; ++v) {
      const int col = p * PackedInt8Matrix::kPanelColumns + v * 16;
      if (col >= w.n) break;
      const __mmask16 m = w.n - col >= 16 ? __mmask16(0xffff) : __mmask16((1u << (w.n - col)) - 1);
      // (the rounding form keeps the compiler from contracting this product with the residual's add)
      __m512 o = _mm512_mul_round_ps(f[0][v], _mm512_load_ps(row_scales + col),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      if (residual) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(m, residual + col));
      _mm512_mask_storeu_ps(out + col, m, o);
    }
  }
}

// One 64-byte line of a panel holds 16 columns x 4 k: shifting byte k % 4 of each 32-bit lane to the
// top and back (arithmetic) sign-extends it; then scale and round to F16, 16 columns per step.
__attribute__((target("avx512f,f16c"))) void decode_shadow_row_avx512(const PackedInt8Matrix& w, int k,
                                                                      uint16_t* out) {
  const size_t group = size_t(k / 4);
  const __m128i up = _mm_cvtsi32_si128(24 - 8 * (k % 4)), down = _mm_cvtsi32_si128(24);
  for (int panel = 0; panel < w.panels; ++panel) {
    const int width = w.panel_width(panel);  // a multiple of 16; scales are padded alike
    const int8_t* src = w.panel(panel) + group * size_t(width) * 4;
    const int n0 = panel * PackedInt8Matrix::kPanelColumns;
    for (int c = 0; c < width && n0 + c < w.n; c += 16) {
      const __m512i lanes = _mm512_loadu_si512(src + size_t(c) * 4);
      const __m512i values = _mm512_sra_epi32(_mm512_sll_epi32(lanes, up), down);
      const __m512 scaled =
          _mm512_mul_ps(_mm512_cvtepi32_ps(values), _mm512_loadu_ps(w.scales.data() + n0 + c));
      const __m256i halves = _mm512_cvtps_ph(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const int valid = std::min(16, w.n - (n0 + c));
      if (valid == 16) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + n0 + c), halves);
      } else {
        alignas(32) uint16_t tail[16];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tail), halves);
        std::copy_n(tail, valid, out + n0 + c);
      }
    }
  }
}

template void shadow_rows_avx512<true>(const kernels::OutlierEntry*, const uint16_t* const*, size_t, int, int,
                                       float*);
template void shadow_rows_avx512<false>(const kernels::OutlierEntry*, const uint16_t* const*, size_t, int,
                                        int, float*);

#pragma GCC diagnostic pop

}  // namespace llmnpu::int8_linear_detail
