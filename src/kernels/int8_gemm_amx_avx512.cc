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

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/int8_gemm_avx512_epilogue.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu::int8_detail {
namespace {

constexpr int kBlockRows = 32;
constexpr int kBlockCols = 32;
constexpr int kPrefetchMaxK = 1024;  // see run_blocks
// A task's column blocks hold about this much of weights (they stay in L2 while the task's rows pass).
constexpr int kGroupBytes = 1 << 20;

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
  int row = 0, col = 0, vectors = 0, rows = 0;
  int next_row = 0, next_vector = 0;  // the next vector to finish
  bool active = false;

  void start(int r, int c, int row_count, int vector_count) {
    row = r, col = c, rows = row_count, vectors = vector_count;
    next_row = 0, next_vector = 0, active = row_count > 0 && vector_count > 0;
  }
  void advance(const TileOut& out, int count) {
    if (!active) return;
    for (; count > 0; --count) {
      finish_vector(out, _mm512_load_si512(results + next_row * kBlockCols + next_vector * 16),
                    row + next_row, col + next_vector * 16);
      if (++next_vector == vectors) {
        next_vector = 0;
        if (++next_row == rows) {
          active = false;
          return;
        }
      }
    }
  }
  int remaining() const { return active ? (rows - next_row) * vectors - next_vector : 0; }
};

// A in the tile layout, shared by all threads: for every 16-row group g and 64-byte K step s, one 1 KiB
// tile (16 rows x 64 bytes) at (g * k_steps + s) * 1024, so a block's A operand is one sequential stream.
// Rows are zero-padded to a multiple of 32.
void pack_a(const int8_t* a, int m, size_t lda, int k_steps, int8_t* dst, int row_begin, int row_end) {
  for (int r = row_begin; r < row_end; ++r) {
    int8_t* d = dst + (size_t(r / 16) * k_steps * 16 + r % 16) * 64;
    if (r < m) {
      const int8_t* src = a + size_t(r) * lda;
      for (int s = 0; s < k_steps; ++s)
        _mm512_store_si512(d + size_t(s) * 1024, _mm512_loadu_si512(src + s * 64));
    } else {
      for (int s = 0; s < k_steps; ++s) _mm512_store_si512(d + size_t(s) * 1024, _mm512_setzero_si512());
    }
  }
}

// One 32 x `cols` (16 or 32) block over all K steps of A (two packed 16-row groups a0, a1) and of the
// panel's columns starting at b0 (row stride b_stride, 16 rows per K step); int32 sums to
// pending.results once the previous block's epilogue, advanced while the tiles work, is complete.
void block(const int8_t* a0, const int8_t* a1, const int8_t* b0, size_t b_stride, int steps, int cols,
           Pending& pending, const TileOut& epilogue, const int8_t* prefetch_b = nullptr) {
  const size_t tile_stride = 64, c_stride = kBlockCols * sizeof(int32_t);
  const size_t b_step = 16 * b_stride;
  __asm__ volatile("tilezero %%tmm0\n\ttilezero %%tmm1\n\ttilezero %%tmm2\n\ttilezero %%tmm3" ::: "memory");
  const int per_step = steps > 0 ? (pending.remaining() + steps - 1) / steps : 0;
  if (cols == 32) {
    for (int s = 0; s < steps; ++s) {
      __asm__ volatile(
          "tileloadd (%[a0],%[ts],1), %%tmm4\n\t"
          "tileloadd (%[b0],%[bs],1), %%tmm6\n\t"
          "tileloadd (%[b1],%[bs],1), %%tmm7\n\t"
          "tdpbssd %%tmm6, %%tmm4, %%tmm0\n\t"
          "tileloadd (%[a1],%[ts],1), %%tmm5\n\t"
          "tdpbssd %%tmm7, %%tmm4, %%tmm1\n\t"
          "tdpbssd %%tmm6, %%tmm5, %%tmm2\n\t"
          "tdpbssd %%tmm7, %%tmm5, %%tmm3\n\t"
          :
          : [a0] "r"(a0), [a1] "r"(a1), [b0] "r"(b0), [b1] "r"(b0 + 64), [ts] "r"(tile_stride),
            [bs] "r"(b_stride)
          : "memory");
      a0 += 1024, a1 += 1024, b0 += b_step;
      if (prefetch_b) {
        for (int r = 0; r < 16; ++r) {
          const char* line = reinterpret_cast<const char*>(prefetch_b) + size_t(r) * b_stride;
          _mm_prefetch(line, _MM_HINT_T1);
          _mm_prefetch(line + 64, _MM_HINT_T1);
        }
        prefetch_b += b_step;
      }
      pending.advance(epilogue, per_step);
    }
  } else {
    for (int s = 0; s < steps; ++s) {
      __asm__ volatile(
          "tileloadd (%[a0],%[ts],1), %%tmm4\n\t"
          "tileloadd (%[b0],%[bs],1), %%tmm6\n\t"
          "tileloadd (%[a1],%[ts],1), %%tmm5\n\t"
          "tdpbssd %%tmm6, %%tmm4, %%tmm0\n\t"
          "tdpbssd %%tmm6, %%tmm5, %%tmm2\n\t"
          :
          : [a0] "r"(a0), [a1] "r"(a1), [b0] "r"(b0), [ts] "r"(tile_stride), [bs] "r"(b_stride)
          : "memory");
      a0 += 1024, a1 += 1024, b0 += b_step;
      pending.advance(epilogue, per_step);
    }
  }
  pending.advance(epilogue, pending.remaining());
  int32_t* out = pending.results;
  __asm__ volatile(
      "tilestored %%tmm0, (%[o0],%[s],1)\n\t"
      "tilestored %%tmm1, (%[o1],%[s],1)\n\t"
      "tilestored %%tmm2, (%[o2],%[s],1)\n\t"
      "tilestored %%tmm3, (%[o3],%[s],1)\n\t"
      :
      : [o0] "r"(out), [o1] "r"(out + 16), [o2] "r"(out + 16 * kBlockCols),
        [o3] "r"(out + 16 * kBlockCols + 16), [s] "r"(c_stride)
      : "memory");
}

// Per-thread scratch that only grows (no allocation per call once warm).
template <typename T>
T* scratch(AlignedArray<T>& v, size_t count) {
  if (v.size() < count) v = AlignedArray<T>(count);
  return v.data();
}

// Row blocks [rb_begin, rb_end) x column blocks [cb_begin, cb_end), row block by row block: the columns'
// weights stay in L2 and a row block of A in L1 across them, and the epilogue writes contiguous row segments.
void run_blocks(const PackedInt8Matrix& w, const int8_t* packed_a, int k_steps, int m, int rb_begin,
                int rb_end, int cb_begin, int cb_end, Pending& pending, const TileOut& out) {
  for (int rb = rb_begin; rb < rb_end; ++rb) {
    const int8_t* a0 = packed_a + size_t(2 * rb) * k_steps * 1024;
    const int8_t* a1 = a0 + size_t(k_steps) * 1024;
    const int r = rb * kBlockRows;
    for (int cb = cb_begin; cb < cb_end; ++cb) {
      const int col = cb * kBlockCols;
      const int panel = col / PackedInt8Matrix::kPanelColumns, c = col % PackedInt8Matrix::kPanelColumns;
      const int width = w.panel_width(panel);
      const int cols = std::min(kBlockCols, width - c);
      // First pass over these columns: their weights come from memory (a model's weights do not stay in
      // cache between chunks), so ask for the next block's into L2 while this one computes (+2-11%
      // prefill A/B). Only for short K: at K = 2048 the prefetches of a whole 64 KiB block compete with
      // the demand loads and cost ~20% (hot-cache benchmark, 1 thread).
      const int8_t* next = nullptr;
      if (w.k <= kPrefetchMaxK && rb == rb_begin && cb + 1 < cb_end) {
        const int ncol = (cb + 1) * kBlockCols, npanel = ncol / PackedInt8Matrix::kPanelColumns;
        // (only where the next block has this panel's row stride: block() steps by it)
        if (ncol % PackedInt8Matrix::kPanelColumns + kBlockCols <= w.panel_width(npanel) &&
            w.panel_width(npanel) == width)
          next = w.panel(npanel) + size_t(ncol % PackedInt8Matrix::kPanelColumns) * 4;
      }
      block(a0, a1, w.panel(panel) + size_t(c) * 4, size_t(width) * 4, k_steps, cols, pending, out, next);
      pending.start(r, col, std::min(kBlockRows, m - r), (std::min(cols, w.n - col) + 15) / 16);
    }
  }
}

// Several threads and at least one row block each: every thread packs its own rows of A and computes them
// against all columns, so neither A nor the output crosses cores (a row of A packed on one core and read on
// the other costs a cross-core transfer per line; weights are only read, and both cores can cache them).
// The column groups of each thread's rows are taken from a shared counter: a thread that is done helps with
// the rows of another (after their A is packed), so a slowed-down core does not hold everyone up.
void gemm_amx_row_split(const GemmArgs& g, ThreadPool& pool, int8_t* packed_a, int k_steps, int padded_m,
                        const TileOut& out) {
  const PackedInt8Matrix& w = *g.w;
  const int threads = pool.size();
  const int row_blocks = padded_m / kBlockRows, col_blocks = (w.n + kBlockCols - 1) / kBlockCols;
  const int group = std::clamp(std::min(kGroupBytes / (w.k * kBlockCols), col_blocks / 4), 1, 16);
  const int col_tasks = (col_blocks + group - 1) / group;
  struct alignas(64) Rows {
    std::atomic<int> next_task{0};
    std::atomic<bool> packed{false};
  };
  std::unique_ptr<Rows[]> rows(new Rows[size_t(threads)]);
  pool.run_on_all([&](int t) {
    auto first_block = [&](int i) { return int(int64_t(i) * row_blocks / threads); };
    pack_a(g.a, g.m, size_t(g.lda), k_steps, packed_a, first_block(t) * kBlockRows,
           first_block(t + 1) * kBlockRows);
    rows[size_t(t)].packed.store(true, std::memory_order_release);
    configure_tiles();
    Pending pending;
    for (int i = 0; i < threads; ++i) {
      const int owner = (t + i) % threads;
      Rows& r = rows[size_t(owner)];
      // Another thread's rows only once their A is packed: a thread still packing finishes its own
      // tasks anyway, and waiting for it here would burn this core (or a shared core's time slice).
      if (owner != t && !r.packed.load(std::memory_order_acquire)) continue;
      for (int task = r.next_task.fetch_add(1, std::memory_order_relaxed); task < col_tasks;
           task = r.next_task.fetch_add(1, std::memory_order_relaxed)) {
        run_blocks(w, packed_a, k_steps, g.m, first_block(owner), first_block(owner + 1), task * group,
                   std::min(col_blocks, (task + 1) * group), pending, out);
      }
    }
    pending.advance(out, pending.remaining());
    release_tiles();
  });
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
  const int k_steps = w.k / 64;
  const int padded_m = (g.m + kBlockRows - 1) / kBlockRows * kBlockRows;
  const TileOut out{&w, g.ep, g.a_scale, 1.0f / g.ep->out_scale, false};
  static thread_local AlignedArray<int8_t> packed_a_buffer;
  int8_t* packed_a = scratch(packed_a_buffer, size_t(padded_m) * w.k);
  const int col_blocks = (w.n + kBlockCols - 1) / kBlockCols;
  const int row_blocks = padded_m / kBlockRows;

  if (pool && split_rows_between_threads(row_blocks, padded_m, threads, w.k, w.n)) {
    gemm_amx_row_split(g, *pool, packed_a, k_steps, padded_m, out);
    return;
  }
  // Packing A is a copy of M x K bytes (230 KB to 1.2 MB for a 256-row chunk of qwen2.5-0.5b): threads share
  // it rather than leave the others waiting.
  if (pool && threads > 1 && size_t(padded_m) * w.k >= (64u << 10)) {
    const size_t groups = size_t(padded_m) / 16;
    pool->parallel_for(groups, [&](int, size_t g0, size_t g1) {
      pack_a(g.a, g.m, size_t(g.lda), k_steps, packed_a, int(g0 * 16), int(g1 * 16));
    });
  } else {
    pack_a(g.a, g.m, size_t(g.lda), k_steps, packed_a, 0, padded_m);
  }

  // Work is split in tasks of (a run of 32-column blocks, a chunk of row blocks). Rows are only chunked
  // when there are too few column blocks to keep every thread busy.
  int row_chunks = 1;
  if (col_blocks < 2 * threads)
    row_chunks = std::min(row_blocks, (2 * threads + col_blocks - 1) / col_blocks);
  const int chunk_blocks = (row_blocks + row_chunks - 1) / row_chunks;
  row_chunks = (row_blocks + chunk_blocks - 1) / chunk_blocks;
  // A task's column blocks are swept row block by row block: their weights (about kGroupBytes) stay in
  // L2, a row block of A stays in L1 across them, and the epilogue writes contiguous row segments (one
  // 32-column block per pass would touch a single line pair per row, all in the same few cache sets when
  // N * 4 is a multiple of 4 KiB). Several tasks per thread let a thread that is slowed down (shared
  // cores) hand work to the others: tasks are taken dynamically, which changes no result.
  int group = std::clamp(kGroupBytes / (w.k * kBlockCols), 1, 16);
  if (threads > 1) {
    // At least ~3 tasks per thread, and of the group sizes that allows, the largest one whose rounds of
    // tasks end together on every thread (36 column blocks on 2 threads: 6 tasks of 6, not 9 of 4 + 1).
    const int cap = std::clamp(col_blocks / (3 * threads), 1, group);
    auto makespan = [&](int g) { return (((col_blocks + g - 1) / g + threads - 1) / threads) * g; };
    group = 1;
    for (int g = 2; g <= cap; ++g)
      if (makespan(g) <= makespan(group)) group = g;
  }
  const int col_tasks = (col_blocks + group - 1) / group;
  const int tasks = col_tasks * row_chunks;

  std::atomic<int> next_task{0};
  auto work = [&](int) {
    configure_tiles();
    Pending pending;
    for (int t = next_task.fetch_add(1, std::memory_order_relaxed); t < tasks;
         t = next_task.fetch_add(1, std::memory_order_relaxed)) {
      const int cb_begin = t / row_chunks * group, cb_end = std::min(col_blocks, cb_begin + group);
      const int rb_begin = t % row_chunks * chunk_blocks,
                rb_end = std::min(row_blocks, rb_begin + chunk_blocks);
      run_blocks(w, packed_a, k_steps, g.m, rb_begin, rb_end, cb_begin, cb_end, pending, out);
    }
    pending.advance(out, pending.remaining());
    release_tiles();
  };
  if (pool && tasks > 1)
    pool->run_on_all(work);
  else
    work(0);
}

}  // namespace llmnpu::int8_detail
