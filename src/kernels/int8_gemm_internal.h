#pragma once
// Shared between the int8 GEMM implementations (not a public header).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/int8_gemm.h"

namespace llmnpu::int8_detail {

struct GemmArgs {
  const int8_t* a;
  int m, lda;
  const PackedInt8Matrix* w;
  float a_scale;
  const Int8Epilogue* ep;
};

// How the output is split over threads: units are (panel, row chunk) pairs, panel-major, so a thread
// gets a contiguous run of panels (its own slice of W) and rows are only split when panels are scarce.
struct WorkSplit {
  int row_chunks = 1;
  int chunk_rows = 0;  // a multiple of the microkernel's row count
  int units = 0;
};

// The helpers below have internal linkage on purpose: this header is included by files compiled for
// different instruction sets (AVX-512, AVX2, plain x86-64; SDOT or plain Armv8-A), and a shared inline
// copy the linker took from one of those could run on a CPU without its instructions.
namespace {

inline WorkSplit plan_split(int m, int panels, int threads, int rows_per_tile) {
  WorkSplit s;
  int tiles = (m + rows_per_tile - 1) / rows_per_tile;
  if (panels < 2 * threads) s.row_chunks = std::min(tiles, (2 * threads + panels - 1) / std::max(panels, 1));
  s.row_chunks = std::max(s.row_chunks, 1);
  s.chunk_rows = ((tiles + s.row_chunks - 1) / s.row_chunks) * rows_per_tile;
  s.row_chunks = (m + s.chunk_rows - 1) / s.chunk_rows;
  s.units = panels * s.row_chunks;
  return s;
}

// Whether several threads should split the rows (each thread prepares and computes its own rows against
// every column) rather than the columns: when every thread gets a row unit (32-row block, 6-row group)
// and either enough rows to reuse the weights it then streams alone, or weights that fit in L2 anyway.
// Measured on AMX at M = 256, 2 threads: 6-29% faster than the column split; at 32 rows per thread on
// 4 MB of weights up to 17% slower (docs/kernels-int8.md).
inline bool split_rows_between_threads(int row_units, int rows, int threads, int k, int n) {
  return threads > 1 && row_units >= threads &&
         (rows / threads >= 128 || size_t(k) * size_t(n) <= (size_t(2) << 20));
}

// The epilogue for one value, in the documented order (the SIMD versions do the same operations).
inline void store_one(const Int8Epilogue& ep, int row, int col, int32_t acc, float scale) {
  size_t at = size_t(row) * size_t(ep.ld_out) + size_t(col);
  if (ep.out_i32) {
    ep.out_i32[at] = acc;
    return;
  }
  if (ep.row_scales) scale = scale * ep.row_scales[row];
  float v = std::fma(float(acc), scale, ep.bias ? ep.bias[col] : 0.0f);
  if (ep.residual) v = v + ep.residual[size_t(row) * size_t(ep.ld_residual) + size_t(col)];
  if (ep.out_f32) {
    ep.out_f32[at] = v;
  } else {
    // Clamp before rounding: NaN and huge values then behave the same as in the SIMD versions.
    float q = std::min(127.0f, std::max(-127.0f, v * (1.0f / ep.out_scale)));
    ep.out_i8[at] = int8_t(std::nearbyint(q));
  }
}

}  // namespace

// A call uses the thread pool only if it streams at least weight_bytes of weights or does at least macs
// multiply-adds (below that, waking the pool costs more than it saves). Tests lower it to 0 to run the
// threaded paths on small shapes; not synchronized, set it before any concurrent call.
struct ParallelThreshold {
  double weight_bytes = double(512 << 10);
  double macs = 8e6;
};
ParallelThreshold& parallel_threshold();

#if defined(__x86_64__)
void gemm_avx512_vnni(const GemmArgs& args, ThreadPool* pool);
bool amx_int8_available();  // CPU and OS support AMX-INT8 (asks Linux for the tile state once)
void gemm_amx(const GemmArgs& args, ThreadPool* pool);  // K % 64 == 0
void gemm_avx2(const GemmArgs& args, ThreadPool* pool, bool vnni);
#elif defined(__aarch64__)
void gemm_neon(const GemmArgs& args, ThreadPool* pool);          // int8_gemm_neon.cc
void gemm_neon_dotprod(const GemmArgs& args, ThreadPool* pool);  // int8_gemm_dotprod.cc
void gemm_neon_i8mm(const GemmArgs& args, ThreadPool* pool);     // int8_gemm_i8mm.cc
#endif

}  // namespace llmnpu::int8_detail
