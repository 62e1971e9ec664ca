// Intel AMX int8 GEMM (tdpbssd: signed x signed bytes, so no +128 bias and no preparation of A).
// A 32 x 32 output block is four 16 x 16 int32 tiles (tmm0-3), fed per 64-byte K step by two A tiles
// (tmm4/5: 16 rows x 64 bytes straight from A) and two B tiles (tmm6/7: 16 groups of 4 k x 16 columns,
// which is exactly 16 columns of the shared packed panel layout read with the panel's row stride).
// The tile instructions are written as inline assembly so no -mamx flags are needed to build.
// GCC 12 reports its own masked-intrinsic helpers as maybe-uninitialized (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm_avx512_epilogue.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu::int8_detail {
namespace {

constexpr int kBlockRows = 32;
constexpr int kBlockCols = 32;

bool detect_amx() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool tile = d & (1u << 24), int8 = d & (1u << 25);
  if (!tile || !int8) return false;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;  // OSXSAVE
  unsigned xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & (3u << 17)) != (3u << 17)) return false;  // XTILECFG and XTILEDATA enabled by the OS
  // Linux hands out the 8 KiB tile state only on request (once per process).
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

void configure_tiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.bytes_per_row[t] = 64, cfg.rows[t] = 16;
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

inline void release_tiles() { __asm__ volatile("tilerelease" ::: "memory"); }

// A finished block whose epilogue is still to be applied. The epilogue of block i runs, a few vectors per
// K step, while the tile unit works on block i + 1 (tile instructions and AVX-512 overlap in the core).
struct Pending {
  alignas(64) int32_t results[kBlockRows * kBlockCols];
  int row = 0, col = 0, vectors = 0, done = 0, total = 0;

  void advance(const TileOut& out, int count) {
    for (; count > 0 && done < total; ++done, --count) {
      const int i = done / vectors, v = done % vectors;
      if (col + v * 16 < out.w->n)
        finish_vector(out, _mm512_load_si512(results + i * kBlockCols + v * 16), row + i, col + v * 16);
    }
  }
};

// 32 rows of A (row stride lda, K a multiple of 64) x `cols` (16 or 32) columns starting at panel column
// c; int32 results to out (32 x 32, row stride 128 bytes).
// prefetch: cache lines the epilogue of this block will touch, requested a few per K step so they arrive
// during the tile work instead of stalling the epilogue.
// On return `pending` holds this block (the previous one's epilogue is done).
void block(const int8_t* a, size_t lda, const int8_t* panel, int width, int c, int k_steps, int cols,
           const char* const* prefetch, int prefetch_count, Pending& pending, const TileOut& epilogue) {
  const int prefetch_per_step = k_steps > 0 ? (prefetch_count + k_steps - 1) / k_steps : 0;
  const int finish_per_step = k_steps > 0 ? (pending.total - pending.done + k_steps - 1) / k_steps : 0;
  int prefetched = 0;
  const int8_t* a0 = a;
  const int8_t* a1 = a + 16 * lda;
  const int8_t* b0 = panel + size_t(c) * 4;
  const size_t b_stride = size_t(width) * 4, b_step = 16 * b_stride;
  __asm__ volatile("tilezero %%tmm0\n\ttilezero %%tmm1\n\ttilezero %%tmm2\n\ttilezero %%tmm3" ::: "memory");
  if (cols == 32) {
    for (int s = 0; s < k_steps; ++s) {
      __asm__ volatile(
          "tileloadd (%[a0],%[lda],1), %%tmm4\n\t"
          "tileloadd (%[b0],%[bs],1), %%tmm6\n\t"
          "tileloadd (%[b1],%[bs],1), %%tmm7\n\t"
          "tdpbssd %%tmm6, %%tmm4, %%tmm0\n\t"
          "tileloadd (%[a1],%[lda],1), %%tmm5\n\t"
          "tdpbssd %%tmm7, %%tmm4, %%tmm1\n\t"
          "tdpbssd %%tmm6, %%tmm5, %%tmm2\n\t"
          "tdpbssd %%tmm7, %%tmm5, %%tmm3\n\t"
          :
          : [a0] "r"(a0), [a1] "r"(a1), [b0] "r"(b0), [b1] "r"(b0 + 64), [lda] "r"(lda), [bs] "r"(b_stride)
          : "memory");
      a0 += 64, a1 += 64, b0 += b_step;
      for (int i = 0; i < prefetch_per_step && prefetched < prefetch_count; ++i)
        __asm__ volatile("prefetcht1 %0" : : "m"(*prefetch[prefetched++]));
      pending.advance(epilogue, finish_per_step);
    }
  } else {
    for (int s = 0; s < k_steps; ++s) {
      __asm__ volatile(
          "tileloadd (%[a0],%[lda],1), %%tmm4\n\t"
          "tileloadd (%[b0],%[bs],1), %%tmm6\n\t"
          "tileloadd (%[a1],%[lda],1), %%tmm5\n\t"
          "tdpbssd %%tmm6, %%tmm4, %%tmm0\n\t"
          "tdpbssd %%tmm6, %%tmm5, %%tmm2\n\t"
          :
          : [a0] "r"(a0), [a1] "r"(a1), [b0] "r"(b0), [lda] "r"(lda), [bs] "r"(b_stride)
          : "memory");
      a0 += 64, a1 += 64, b0 += b_step;
      for (int i = 0; i < prefetch_per_step && prefetched < prefetch_count; ++i)
        __asm__ volatile("prefetcht1 %0" : : "m"(*prefetch[prefetched++]));
      pending.advance(epilogue, finish_per_step);
    }
  }
  pending.advance(epilogue, pending.total);
  int32_t* out = pending.results;
  const size_t out_stride = kBlockCols * sizeof(int32_t);
  __asm__ volatile(
      "tilestored %%tmm0, (%[o0],%[s],1)\n\t"
      "tilestored %%tmm1, (%[o1],%[s],1)\n\t"
      "tilestored %%tmm2, (%[o2],%[s],1)\n\t"
      "tilestored %%tmm3, (%[o3],%[s],1)\n\t"
      :
      : [o0] "r"(out), [o1] "r"(out + 16), [o2] "r"(out + 16 * kBlockCols),
        [o3] "r"(out + 16 * kBlockCols + 16), [s] "r"(out_stride)
      : "memory");
}

}  // namespace

bool amx_int8_available() {
  static const bool available = detect_amx();
  return available;
}

// Needs K % 64 == 0 (checked by the caller).
void gemm_amx(const GemmArgs& g, ThreadPool* pool) {
  const PackedInt8Matrix& w = *g.w;
  const int threads = pool ? pool->size() : 1;
  const WorkSplit split = plan_split(g.m, w.panels, threads, kBlockRows);
  const int k_steps = w.k / 64;
  const TileOut out{&w, g.ep, g.a_scale, 1.0f / g.ep->out_scale, false};
  // Rows past the last whole block of 32 are copied (zero-padded) so every tile load stays in bounds.
  const int full_rows = g.m / kBlockRows * kBlockRows;
  std::vector<int8_t> tail;
  if (full_rows < g.m) {
    tail.assign(size_t(kBlockRows) * w.k, 0);
    for (int r = full_rows; r < g.m; ++r)
      std::memcpy(tail.data() + size_t(r - full_rows) * w.k, g.a + size_t(r) * g.lda, size_t(w.k));
  }
  auto work = [&](int, size_t unit_begin, size_t unit_end) {
    configure_tiles();
    Pending pending;
    const char* prefetch[kBlockRows * 4];
    const Int8Epilogue& ep = *g.ep;
    for (size_t u = unit_begin; u < unit_end; ++u) {
      const int panel = int(u) / split.row_chunks, chunk = int(u) % split.row_chunks;
      const int row_begin = chunk * split.chunk_rows, row_end = std::min(g.m, row_begin + split.chunk_rows);
      const int width = w.panel_width(panel);
      for (int c = 0; c < width; c += kBlockCols) {
        const int cols = std::min(kBlockCols, width - c);
        const int col = panel * PackedInt8Matrix::kPanelColumns + c;
        for (int r = row_begin; r < row_end; r += kBlockRows) {
          const bool in_tail = r >= full_rows;
          const int8_t* a = in_tail ? tail.data() : g.a + size_t(r) * g.lda;
          const int rows = std::min(kBlockRows, g.m - r);
          int lines = 0;
          for (int i = 0; i < rows; ++i)
            for (int v = 0; v < cols / 16; ++v) {
              if (col + v * 16 >= w.n) continue;
              if (ep.residual)
                prefetch[lines++] = reinterpret_cast<const char*>(
                    ep.residual + size_t(r + i) * ep.ld_residual + col + v * 16);
              if (ep.out_f32)
                prefetch[lines++] =
                    reinterpret_cast<const char*>(ep.out_f32 + size_t(r + i) * ep.ld_out + col + v * 16);
            }
          block(a, in_tail ? size_t(w.k) : size_t(g.lda), w.panel(panel), width, c, k_steps, cols, prefetch,
                lines, pending, out);
          pending.row = r, pending.col = col, pending.vectors = cols / 16;
          pending.done = 0, pending.total = rows * (cols / 16);
        }
      }
    }
    pending.advance(out, pending.total);
    release_tiles();
  };
  if (pool && split.units > 1)
    pool->parallel_for(size_t(split.units), work);
  else
    work(0, 0, size_t(split.units));
}

}  // namespace llmnpu::int8_detail
