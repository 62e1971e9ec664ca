// AVX-512 VNNI int8 GEMM: a 6-row x 64-column register tile (24 zmm accumulators, 4 zmm of weights,
// two broadcast registers), K blocked so that a panel's K-slice of weights (64 x 256 bytes) stays in L1
// while every row of A streams past it.
// GCC 12 reports its own masked-intrinsic helpers as maybe-uninitialized (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm_avx512_epilogue.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu::int8_detail {
namespace {

constexpr int kRows = 6;        // rows of A per register tile
constexpr int kMaxVectors = 4;  // 16-column vectors per tile (one panel)
constexpr int kBlockK4 = 64;    // K-block in groups of 4: 256 bytes of K -> 16 KiB of weights per panel

// The hot 6 x 64 tile in assembly: GCC 12 keeps an array of 24 __m512i accumulators in registers but
// spills copies of them to the stack on every iteration, which halves the rate. acc: 24 zmm in memory
// (row-major 6 x 4 vectors), loaded before and stored after the K loop; zmm24-27 weights, zmm28/29 the
// broadcast activations (alternating so consecutive rows do not wait on one register). a: the row group
// interleaved as [k4][6 rows][4 bytes]; the K loop is unrolled twice.
void tile_6x4_asm(const uint8_t* a, const int8_t* w, int k4_count, int32_t* acc) {
  if (k4_count <= 0) return;
  size_t count = size_t(k4_count);
  __asm__ volatile(
      "vmovdqa64 0(%[acc]), %%zmm0\n\t"
      "vmovdqa64 64(%[acc]), %%zmm1\n\t"
      "vmovdqa64 128(%[acc]), %%zmm2\n\t"
      "vmovdqa64 192(%[acc]), %%zmm3\n\t"
      "vmovdqa64 256(%[acc]), %%zmm4\n\t"
      "vmovdqa64 320(%[acc]), %%zmm5\n\t"
      "vmovdqa64 384(%[acc]), %%zmm6\n\t"
      "vmovdqa64 448(%[acc]), %%zmm7\n\t"
      "vmovdqa64 512(%[acc]), %%zmm8\n\t"
      "vmovdqa64 576(%[acc]), %%zmm9\n\t"
      "vmovdqa64 640(%[acc]), %%zmm10\n\t"
      "vmovdqa64 704(%[acc]), %%zmm11\n\t"
      "vmovdqa64 768(%[acc]), %%zmm12\n\t"
      "vmovdqa64 832(%[acc]), %%zmm13\n\t"
      "vmovdqa64 896(%[acc]), %%zmm14\n\t"
      "vmovdqa64 960(%[acc]), %%zmm15\n\t"
      "vmovdqa64 1024(%[acc]), %%zmm16\n\t"
      "vmovdqa64 1088(%[acc]), %%zmm17\n\t"
      "vmovdqa64 1152(%[acc]), %%zmm18\n\t"
      "vmovdqa64 1216(%[acc]), %%zmm19\n\t"
      "vmovdqa64 1280(%[acc]), %%zmm20\n\t"
      "vmovdqa64 1344(%[acc]), %%zmm21\n\t"
      "vmovdqa64 1408(%[acc]), %%zmm22\n\t"
      "vmovdqa64 1472(%[acc]), %%zmm23\n\t"
      "test $1, %[n]\n\t"
      "jz 2f\n\t"
      "vmovdqa64 0(%[w]), %%zmm24\n\t"
      "vmovdqa64 64(%[w]), %%zmm25\n\t"
      "vmovdqa64 128(%[w]), %%zmm26\n\t"
      "vmovdqa64 192(%[w]), %%zmm27\n\t"
      "vpbroadcastd 0(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm0\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm1\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm2\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm3\n\t"
      "vpbroadcastd 4(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm4\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm5\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm6\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm7\n\t"
      "vpbroadcastd 8(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm8\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm9\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm10\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm11\n\t"
      "vpbroadcastd 12(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm12\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm13\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm14\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm15\n\t"
      "vpbroadcastd 16(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm16\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm17\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm18\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm19\n\t"
      "vpbroadcastd 20(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm20\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm21\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm22\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm23\n\t"
      "add $24, %[a]\n\t"
      "add $256, %[w]\n\t"
      "2:\n\t"
      "shr $1, %[n]\n\t"
      "jz 3f\n\t"
      "1:\n\t"
      "vmovdqa64 0(%[w]), %%zmm24\n\t"
      "vmovdqa64 64(%[w]), %%zmm25\n\t"
      "vmovdqa64 128(%[w]), %%zmm26\n\t"
      "vmovdqa64 192(%[w]), %%zmm27\n\t"
      "vpbroadcastd 0(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm0\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm1\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm2\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm3\n\t"
      "vpbroadcastd 4(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm4\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm5\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm6\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm7\n\t"
      "vpbroadcastd 8(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm8\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm9\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm10\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm11\n\t"
      "vpbroadcastd 12(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm12\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm13\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm14\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm15\n\t"
      "vpbroadcastd 16(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm16\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm17\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm18\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm19\n\t"
      "vpbroadcastd 20(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm20\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm21\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm22\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm23\n\t"
      "vmovdqa64 256(%[w]), %%zmm24\n\t"
      "vmovdqa64 320(%[w]), %%zmm25\n\t"
      "vmovdqa64 384(%[w]), %%zmm26\n\t"
      "vmovdqa64 448(%[w]), %%zmm27\n\t"
      "vpbroadcastd 24(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm0\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm1\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm2\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm3\n\t"
      "vpbroadcastd 28(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm4\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm5\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm6\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm7\n\t"
      "vpbroadcastd 32(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm8\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm9\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm10\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm11\n\t"
      "vpbroadcastd 36(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm12\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm13\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm14\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm15\n\t"
      "vpbroadcastd 40(%[a]), %%zmm28\n\t"
      "vpdpbusd %%zmm24, %%zmm28, %%zmm16\n\t"
      "vpdpbusd %%zmm25, %%zmm28, %%zmm17\n\t"
      "vpdpbusd %%zmm26, %%zmm28, %%zmm18\n\t"
      "vpdpbusd %%zmm27, %%zmm28, %%zmm19\n\t"
      "vpbroadcastd 44(%[a]), %%zmm29\n\t"
      "vpdpbusd %%zmm24, %%zmm29, %%zmm20\n\t"
      "vpdpbusd %%zmm25, %%zmm29, %%zmm21\n\t"
      "vpdpbusd %%zmm26, %%zmm29, %%zmm22\n\t"
      "vpdpbusd %%zmm27, %%zmm29, %%zmm23\n\t"
      "add $48, %[a]\n\t"
      "add $512, %[w]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "3:\n\t"
      "vmovdqa64 %%zmm0, 0(%[acc])\n\t"
      "vmovdqa64 %%zmm1, 64(%[acc])\n\t"
      "vmovdqa64 %%zmm2, 128(%[acc])\n\t"
      "vmovdqa64 %%zmm3, 192(%[acc])\n\t"
      "vmovdqa64 %%zmm4, 256(%[acc])\n\t"
      "vmovdqa64 %%zmm5, 320(%[acc])\n\t"
      "vmovdqa64 %%zmm6, 384(%[acc])\n\t"
      "vmovdqa64 %%zmm7, 448(%[acc])\n\t"
      "vmovdqa64 %%zmm8, 512(%[acc])\n\t"
      "vmovdqa64 %%zmm9, 576(%[acc])\n\t"
      "vmovdqa64 %%zmm10, 640(%[acc])\n\t"
      "vmovdqa64 %%zmm11, 704(%[acc])\n\t"
      "vmovdqa64 %%zmm12, 768(%[acc])\n\t"
      "vmovdqa64 %%zmm13, 832(%[acc])\n\t"
      "vmovdqa64 %%zmm14, 896(%[acc])\n\t"
      "vmovdqa64 %%zmm15, 960(%[acc])\n\t"
      "vmovdqa64 %%zmm16, 1024(%[acc])\n\t"
      "vmovdqa64 %%zmm17, 1088(%[acc])\n\t"
      "vmovdqa64 %%zmm18, 1152(%[acc])\n\t"
      "vmovdqa64 %%zmm19, 1216(%[acc])\n\t"
      "vmovdqa64 %%zmm20, 1280(%[acc])\n\t"
      "vmovdqa64 %%zmm21, 1344(%[acc])\n\t"
      "vmovdqa64 %%zmm22, 1408(%[acc])\n\t"
      "vmovdqa64 %%zmm23, 1472(%[acc])\n\t"
      : [a] "+r"(a), [w] "+r"(w), [n] "+r"(count)
      : [acc] "r"(acc)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
        "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "cc", "memory");
}

// The residual and output lines of a 6 x 64 tile usually come from memory: ask for them before the
// tile's last K loop so the epilogue does not wait for them.
// (GCC 12 at -O3 drops _mm_prefetch here, so the instruction is written out.)
inline void prefetch_line(const float* p) { __asm__ volatile("prefetcht2 %0" : : "m"(*p)); }
inline void prefetch_l2(const int8_t* p) { __asm__ volatile("prefetcht1 %0" : : "m"(*p)); }

inline void prefetch_epilogue(const TileOut& t, int row, int col) {
  const Int8Epilogue& ep = *t.ep;
  for (int r = 0; r < kRows; ++r) {
    if (ep.residual) {
      const float* res = ep.residual + size_t(row + r) * size_t(ep.ld_residual) + col;
      for (int v = 0; v < 4; ++v) prefetch_line(res + 16 * v);
    }
    if (ep.out_f32) {
      const float* o = ep.out_f32 + size_t(row + r) * size_t(ep.ld_out) + col;
      for (int v = 0; v < 4; ++v) prefetch_line(o + 16 * v);
    }
  }
}

// R rows x NV vectors over k4_count groups of 4. a: the unsigned (biased) activations of the R rows,
// interleaved [k4][R][4 bytes] (one sequential stream for the prefetcher).
// w: the panel at the block's first k4 (row stride NV * 64 bytes). scratch: int32 partial sums
// between K-blocks, row stride 64.
template <int R, int NV>
void tile(const uint8_t* a, const int8_t* w, int k4_count, int32_t* scratch, bool first, bool last,
          const TileOut& out, int row, int col) {
  if constexpr (R == kRows && NV == kMaxVectors) {
    // Partial sums live in memory around the assembly loop: the scratch rows between K-blocks (same
    // 6 x 4-vector layout), a local buffer when K is a single block.
    if (last) prefetch_epilogue(out, row, col);
    alignas(64) int32_t local[R * 64];
    int32_t* sums = scratch ? scratch : local;
    if (first) std::memset(sums, 0, sizeof(local));
    tile_6x4_asm(a, w, k4_count, sums);
    if (last)
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v)
          if (col + v * 16 < out.w->n)
            finish_vector(out, _mm512_load_si512(sums + r * 64 + v * 16), row + r, col + v * 16);
    return;
  }
  __m512i acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v)
      acc[r][v] = first ? _mm512_setzero_si512() : _mm512_load_si512(scratch + r * 64 + v * 16);
#pragma GCC unroll 2
  for (int q = 0; q < k4_count; ++q) {
    __m512i wv[NV];
    for (int v = 0; v < NV; ++v) wv[v] = _mm512_load_si512(w + v * 64);
    w += NV * 64;
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, a + (size_t(q) * R + r) * 4, 4);
      const __m512i b = _mm512_set1_epi32(four);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], b, wv[v]);
    }
  }
  if (!last) {
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) _mm512_store_si512(scratch + r * 64 + v * 16, acc[r][v]);
    return;
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v)
      if (col + v * 16 < out.w->n) finish_vector(out, acc[r][v], row + r, col + v * 16);
}

using TileFn = void (*)(const uint8_t*, const int8_t*, int, int32_t*, bool, bool, const TileOut&, int, int);

template <int... I>
constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::integer_sequence<int, I...>) {
  return {&tile<I / kMaxVectors + 1, I % kMaxVectors + 1>...};
}
// kTiles[(rows - 1) * 4 + (vectors - 1)]
constexpr auto kTiles = make_tiles(std::make_integer_sequence<int, kRows * kMaxVectors>{});

// Activations + 128 as unsigned bytes (vpdpbusd multiplies unsigned by signed), in groups of kRows rows
// interleaved [k4][rows][4 bytes]; group g starts at g * kRows * k4 * 4. K is padded to whole groups of 4
// with 128 (= 0 before biasing; the padded weights are 0 anyway).
void bias_rows(const int8_t* a, size_t lda, int rows, int k, int k4, uint8_t* dst) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  for (int g = 0; g * kRows < rows; ++g) {
    const int group_rows = std::min(kRows, rows - g * kRows);
    uint8_t* out = dst + size_t(g) * kRows * k4 * 4;
    for (int r = 0; r < group_rows; ++r) {
      const int8_t* src = a + size_t(g * kRows + r) * lda;
      // 16 groups of 4 bytes per step, scattered to stride group_rows * 4.
      const __m512i index =
          _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                             _mm512_set1_epi32(group_rows * 4));
      for (int q = 0; q < k4; q += 16) {
        const int left = k - q * 4;
        const __mmask64 mask = left >= 64  ? ~__mmask64(0)
                               : left <= 0 ? __mmask64(0)
                                           : (__mmask64(1) << left) - 1;
        const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, src + size_t(q) * 4), flip);
        const int groups = std::min(16, k4 - q);
        const __mmask16 store = groups >= 16 ? __mmask16(0xffff) : __mmask16((1u << groups) - 1);
        _mm512_mask_i32scatter_epi32(out + (size_t(q) * group_rows + r) * 4, store, index, x, 1);
      }
    }
  }
}

}  // namespace

void gemm_avx512_vnni(const GemmArgs& g, ThreadPool* pool) {
  const PackedInt8Matrix& w = *g.w;
  const int threads = pool ? pool->size() : 1;
  const WorkSplit split = plan_split(g.m, w.panels, threads, kRows);
  // Small M (decode, GEMV): weights stream from memory once, K-blocking would only add partial-sum traffic.
  const int k_blocks = g.m <= kRows ? 1 : std::max(1, (w.k4 + kBlockK4 - 1) / kBlockK4);
  const int block_k4 =
      ((w.k4 + k_blocks - 1) / std::max(k_blocks, 1) + 1) / 2 * 2;  // even: the asm loop is unrolled twice
  const size_t group_bytes = size_t(kRows) * size_t(w.k4) * 4;
  const TileOut out{&w, g.ep, g.a_scale, 1.0f / g.ep->out_scale, true};

  // The biased, interleaved copy of A is made once per call (in parallel over row groups) and shared.
  thread_local std::vector<uint8_t> biased;
  const int groups = (g.m + kRows - 1) / kRows;
  if (biased.size() < size_t(groups) * group_bytes + 64) biased.resize(size_t(groups) * group_bytes + 64);
  uint8_t* const biased_a = biased.data();  // the caller's buffer (inside the lambdas `biased` is per thread)
  const bool row_split = pool && split_rows_between_threads(groups, g.m, threads, w.k, w.n);
  auto prepare = [&](int, size_t group_begin, size_t group_end) {
    const int row_begin = int(group_begin) * kRows, row_end = std::min(g.m, int(group_end) * kRows);
    bias_rows(g.a + size_t(row_begin) * g.lda, g.lda, row_end - row_begin, w.k, w.k4,
              biased_a + group_begin * group_bytes);
  };
  // Rows [row_begin, row_end) against one panel, K-block by K-block (partial sums in scratch).
  // The first row group of a block would wait for its weight slice (16 KiB, from L3 or DRAM once the
  // weights outgrow L2): the next slice (the next K-block, else the next panel's first) is asked into
  // L2 a few lines per row group while this one computes.
  auto compute = [&](int panel, int row_begin, int row_end, int32_t* scratch) {
    const int width = w.panel_width(panel), vectors = width / 16;
    const int col = panel * PackedInt8Matrix::kPanelColumns;
    const int groups_here = (row_end - row_begin + kRows - 1) / kRows;
    for (int kb = 0; kb < k_blocks; ++kb) {
      const int q0 = kb * block_k4, q1 = std::min(w.k4, q0 + block_k4);
      if (q0 >= q1 && kb > 0) break;
      const bool first = kb == 0, last = kb == k_blocks - 1 || q1 >= w.k4;
      const int8_t* wp = w.panel(panel) + size_t(q0) * size_t(width) * 4;
      const int8_t* next = nullptr;
      size_t next_bytes = 0;
      if (!last) {
        next = wp + size_t(q1 - q0) * size_t(width) * 4;
        next_bytes = size_t(std::min(w.k4, q1 + block_k4) - q1) * size_t(width) * 4;
      } else if (panel + 1 < w.panels) {
        next = w.panel(panel + 1);
        next_bytes = size_t(std::min(w.k4, block_k4)) * size_t(w.panel_width(panel + 1)) * 4;
      }
      const size_t lines_per_group = (next_bytes / 64 + size_t(groups_here) - 1) / size_t(groups_here);
      for (int r = row_begin; r < row_end; r += kRows) {
        const int rows = std::min(kRows, row_end - r);
        if (next_bytes > 0) {
          const size_t line0 = size_t((r - row_begin) / kRows) * lines_per_group;
          for (size_t l = line0; l < line0 + lines_per_group && l * 64 < next_bytes; ++l)
            prefetch_l2(next + l * 64);
        }
        kTiles[(rows - 1) * kMaxVectors + (vectors - 1)](
            biased_a + size_t(r) / kRows * group_bytes + size_t(q0) * size_t(rows) * 4, wp, q1 - q0,
            k_blocks > 1 ? scratch + size_t(r - row_begin) * 64 : nullptr, first, last, out, r, col);
      }
    }
  };
  // 64-byte aligned per-thread scratch for rows x 64 partial sums (aligned zmm loads and stores).
  auto thread_scratch = [&](int rows) -> int32_t* {
    thread_local std::vector<int32_t> storage;
    if (k_blocks > 1 && storage.size() < size_t(rows) * 64 + 16) storage.resize(size_t(rows) * 64 + 16);
    return reinterpret_cast<int32_t*>((reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t(63));
  };

  if (row_split) {
    // Every thread biases its own rows and computes them against all panels: A and the output stay on
    // the core that produced them (split_rows_between_threads: when, and why).
    pool->run_on_all([&](int t) {
      const int group_begin = int(int64_t(t) * groups / threads),
                group_end = int(int64_t(t + 1) * groups / threads);
      if (group_begin == group_end) return;
      prepare(t, size_t(group_begin), size_t(group_end));
      const int row_begin = group_begin * kRows, row_end = std::min(g.m, group_end * kRows);
      int32_t* scratch = thread_scratch(row_end - row_begin);
      for (int panel = 0; panel < w.panels; ++panel) compute(panel, row_begin, row_end, scratch);
    });
    return;
  }
  if (pool && groups > 1)
    pool->parallel_for(size_t(groups), prepare);
  else
    prepare(0, 0, size_t(groups));
  auto work = [&](int, size_t unit_begin, size_t unit_end) {
    int32_t* scratch = thread_scratch(split.chunk_rows);
    for (size_t u = unit_begin; u < unit_end; ++u) {
      const int panel = int(u) / split.row_chunks, chunk = int(u) % split.row_chunks;
      const int row_begin = chunk * split.chunk_rows, row_end = std::min(g.m, row_begin + split.chunk_rows);
      compute(panel, row_begin, row_end, scratch);
    }
  };
  if (pool && split.units > 1)
    pool->parallel_for(size_t(split.units), work);
  else
    work(0, 0, size_t(split.units));
}

}  // namespace llmnpu::int8_detail
