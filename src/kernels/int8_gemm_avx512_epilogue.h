#pragma once
// The fused epilogue on 16 int32 results, shared by the AVX-512 kernels (include only from *_avx512.cc).
#include <immintrin.h>

#include <algorithm>

#include "kernels/int8_gemm.h"

namespace llmnpu::int8_detail {

struct TileOut {
  const PackedInt8Matrix* w;
  const Int8Epilogue* ep;
  float a_scale, inv_out_scale;
  bool biased;  // activations were +128: subtract 128 * column sum
};

// One 16-column vector of results for one row: correction, then the epilogue in the documented order.
inline void finish_vector(const TileOut& t, __m512i acc, int row, int col) {
  const int valid = std::min(16, t.w->n - col);
  const __mmask16 mask = valid >= 16 ? __mmask16(0xffff) : __mmask16((1u << valid) - 1);
  if (t.biased) {
    const __m512i sums = _mm512_load_si512(t.w->column_sums.data() + col);
    acc = _mm512_sub_epi32(acc, _mm512_slli_epi32(sums, 7));  // undo the +128 on activations
  }
  const Int8Epilogue& ep = *t.ep;
  const size_t at = size_t(row) * size_t(ep.ld_out) + size_t(col);
  if (ep.out_i32) {
    _mm512_mask_storeu_epi32(ep.out_i32 + at, mask, acc);
    return;
  }
  __m512 scale = _mm512_mul_ps(_mm512_set1_ps(t.a_scale), _mm512_load_ps(t.w->scales.data() + col));
  if (ep.row_scales) scale = _mm512_mul_ps(scale, _mm512_set1_ps(ep.row_scales[row]));
  const __m512 bias = ep.bias ? _mm512_maskz_loadu_ps(mask, ep.bias + col) : _mm512_setzero_ps();
  __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), scale, bias);
  if (ep.residual)
    v = _mm512_add_ps(v,
                      _mm512_maskz_loadu_ps(mask, ep.residual + size_t(row) * size_t(ep.ld_residual) + col));
  if (ep.out_f32) {
    _mm512_mask_storeu_ps(ep.out_f32 + at, mask, v);
    return;
  }
  __m512 q = _mm512_mul_ps(v, _mm512_set1_ps(t.inv_out_scale));
  q = _mm512_min_ps(_mm512_max_ps(q, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));  // NaN -> -127
  _mm512_mask_cvtepi32_storeu_epi8(ep.out_i8 + at, mask, _mm512_cvtps_epi32(q));
}

}  // namespace llmnpu::int8_detail
