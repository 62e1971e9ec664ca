// AVX2 int8 GEMM for CPUs without AVX-512: a 4-row x 16-column register tile over the shared packed
// layout (one ymm = 8 columns x 4 k). With AVX-VNNI the activations are biased to unsigned (+128, undone
// with the column sums) and multiplied by vpdpbusd; without it, maddubs on |a| and sign(w, a), whose
// 16-bit pair sums cannot saturate because both operands stay within -127..127.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu::int8_detail {
namespace {

constexpr int kRows = 4;

template <bool Vnni>
inline __m256i dot4(__m256i acc, __m256i a, __m256i w) {
  if constexpr (Vnni) {
    return _mm256_dpbusd_avx_epi32(acc, a, w);
  } else {
    const __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(w, a));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(products, _mm256_set1_epi16(1)));
  }
}

// R rows (row stride lda) x 16 columns starting at column c of a panel of `width` columns.
template <int R, bool Vnni>
void tile(const uint8_t* a, size_t lda, const int8_t* panel, int width, int c, int k4, const GemmArgs& g,
          int row, int col) {
  __m256i acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  const int8_t* w = panel + size_t(c) * 4;
  for (int q = 0; q < k4; ++q, w += size_t(width) * 4) {
    const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
    const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32));
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, a + r * lda + size_t(q) * 4, 4);
      const __m256i b = _mm256_set1_epi32(four);
      acc[r][0] = dot4<Vnni>(acc[r][0], b, w0);
      acc[r][1] = dot4<Vnni>(acc[r][1], b, w1);
    }
  }
  const PackedInt8Matrix& pw = *g.w;
  alignas(32) int32_t out[16];
  for (int r = 0; r < R; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(out), acc[r][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8), acc[r][1]);
    for (int j = 0; j < 16 && col + j < pw.n; ++j) {
      const int32_t value = Vnni ? out[j] - 128 * pw.column_sums[col + j] : out[j];
      store_one(*g.ep, row + r, col + j, value, g.a_scale * pw.scales[col + j]);
    }
  }
}

template <bool Vnni>
void run(const GemmArgs& g, ThreadPool* pool) {
  const PackedInt8Matrix& w = *g.w;
  const int threads = pool ? pool->size() : 1;
  const WorkSplit split = plan_split(g.m, w.panels, threads, kRows);
  // Rows padded to whole groups of 4 k. The VNNI path reads A + 128 as unsigned bytes.
  const size_t ld = size_t(w.k4) * 4 + 4;
  thread_local std::vector<uint8_t> copy;
  if (copy.size() < size_t(g.m) * ld) copy.resize(size_t(g.m) * ld);
  const uint8_t flip = Vnni ? 0x80 : 0x00;
  for (int r = 0; r < g.m; ++r) {
    uint8_t* dst = copy.data() + size_t(r) * ld;
    const int8_t* src = g.a + size_t(r) * size_t(g.lda);
    for (int k = 0; k < w.k; ++k) dst[k] = uint8_t(src[k]) ^ flip;
    for (int k = w.k; k < w.k4 * 4; ++k) dst[k] = flip;
  }
  const uint8_t* a = copy.data();
  auto work = [&](int, size_t unit_begin, size_t unit_end) {
    for (size_t u = unit_begin; u < unit_end; ++u) {
      const int panel = int(u) / split.row_chunks, chunk = int(u) % split.row_chunks;
      const int row_begin = chunk * split.chunk_rows, row_end = std::min(g.m, row_begin + split.chunk_rows);
      const int width = w.panel_width(panel);
      for (int c = 0; c < width; c += 16) {
        const int col = panel * PackedInt8Matrix::kPanelColumns + c;
        if (col >= w.n) break;
        for (int r = row_begin; r < row_end; r += kRows) {
          const uint8_t* ar = a + size_t(r) * ld;
          switch (std::min(kRows, row_end - r)) {
            case 4: tile<4, Vnni>(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
            case 3: tile<3, Vnni>(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
            case 2: tile<2, Vnni>(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
            default: tile<1, Vnni>(ar, ld, w.panel(panel), width, c, w.k4, g, r, col); break;
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

}  // namespace

void gemm_avx2(const GemmArgs& args, ThreadPool* pool, bool vnni) {
  if (vnni)
    run<true>(args, pool);
  else
    run<false>(args, pool);
}

}  // namespace llmnpu::int8_detail
