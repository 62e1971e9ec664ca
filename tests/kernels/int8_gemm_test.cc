#include "kernels/int8_gemm.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu {
namespace {

std::vector<Int8Kernel> available_kernels() {
  std::vector<Int8Kernel> out;
  for (Int8Kernel k : {Int8Kernel::Scalar, Int8Kernel::Avx2, Int8Kernel::Avx2Vnni, Int8Kernel::Avx512Vnni,
                       Int8Kernel::Amx, Int8Kernel::Neon, Int8Kernel::NeonDotprod, Int8Kernel::NeonI8mm})
    if (int8_kernel_available(k)) out.push_back(k);
  return out;
}

struct Problem {
  int m, n, k, lda, offset;
  std::vector<int8_t> a_storage, w;
  std::vector<float> scales, bias, residual, row_scales;
  const int8_t* a() const { return a_storage.data() + offset; }
};

Problem make_problem(int m, int n, int k, int lda_extra, int offset, uint32_t seed, int lo = -127,
                     int hi = 127) {
  Problem p{m, n, k, k + lda_extra, offset, {}, {}, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> val(lo, hi);
  std::uniform_real_distribution<float> real(-2.0f, 2.0f);
  p.a_storage.resize(size_t(m) * p.lda + offset + 1);
  for (auto& x : p.a_storage) x = int8_t(val(rng));
  p.w.resize(size_t(n) * k);
  for (auto& x : p.w) x = int8_t(val(rng));
  p.scales.resize(std::max(n, 1));
  for (auto& s : p.scales) s = 0.001f + std::abs(real(rng)) * 0.01f;
  p.bias.resize(n);
  for (auto& b : p.bias) b = real(rng);
  p.residual.resize(size_t(m) * (n + 3));
  for (auto& r : p.residual) r = real(rng);
  p.row_scales.resize(m);
  for (auto& r : p.row_scales) r = 0.25f + std::abs(real(rng)) * 4.0f;
  return p;
}

enum class Out { I32, F32, F32Bias, F32BiasResidual, I8 };

// Runs kernel and reference with the same epilogue; results must be identical. row_scales: each row's
// activation scale is its own multiple of a_scale.
void expect_same(const Problem& p, bool per_channel, Out out, Int8Kernel kernel, ThreadPool* pool = nullptr,
                 bool row_scales = false) {
  const PackedInt8Matrix packed = pack_int8_weights(p.w.data(), p.n, p.k, p.scales.data(), per_channel);
  const int ld_out = p.n + 5;
  const size_t size = size_t(p.m) * ld_out + 1;
  std::vector<float> f_got(size, -7.0f), f_want(size, -7.0f);
  std::vector<int8_t> q_got(size, 99), q_want(size, 99);
  std::vector<int32_t> i_got(size, 12345), i_want(size, 12345);
  auto epilogue = [&](float* f, int8_t* q, int32_t* i) {
    Int8Epilogue ep;
    ep.ld_out = ld_out;
    if (row_scales) ep.row_scales = p.row_scales.data();
    switch (out) {
      case Out::I32: ep.out_i32 = i; break;
      case Out::F32: ep.out_f32 = f; break;
      case Out::F32Bias: ep.out_f32 = f, ep.bias = p.bias.data(); break;
      case Out::F32BiasResidual:
        ep.out_f32 = f, ep.bias = p.bias.data(), ep.residual = p.residual.data(), ep.ld_residual = p.n + 3;
        break;
      case Out::I8:
        ep.out_i8 = q, ep.bias = p.bias.data(), ep.residual = p.residual.data(), ep.ld_residual = p.n + 3;
        ep.out_scale = 0.05f;
        break;
    }
    return ep;
  };
  const float a_scale = 0.0173f;
  int8_gemm(p.a(), p.m, p.lda, packed, a_scale, epilogue(f_got.data(), q_got.data(), i_got.data()), pool,
            kernel);
  int8_gemm_reference(p.a(), p.m, p.lda, p.w.data(), p.n, p.k, p.scales.data(), per_channel, a_scale,
                      epilogue(f_want.data(), q_want.data(), i_want.data()));
  // Byte-exact, including the untouched gaps between rows (ld_out > N).
  EXPECT_EQ(0, std::memcmp(f_got.data(), f_want.data(), size * sizeof(float)))
      << int8_kernel_name(kernel) << " f32 " << p.m << "x" << p.n << "x" << p.k
      << (row_scales ? " row scales" : "");
  EXPECT_EQ(q_got, q_want) << int8_kernel_name(kernel) << " i8 " << p.m << "x" << p.n << "x" << p.k;
  EXPECT_EQ(i_got, i_want) << int8_kernel_name(kernel) << " i32 " << p.m << "x" << p.n << "x" << p.k;
}

TEST(Int8Gemm, OddShapesAllKernelsAllEpilogues) {
  const int sizes_m[] = {1, 2, 5, 6, 7, 13, 33};
  const int sizes_n[] = {1, 7, 16, 33, 64, 65, 130};
  const int sizes_k[] = {1, 3, 4, 7, 33, 257};
  uint32_t seed = 1;
  for (Int8Kernel kernel : available_kernels())
    for (int m : sizes_m)
      for (int n : sizes_n)
        for (int k : sizes_k) {
          Problem p = make_problem(m, n, k, (m + k) % 3, (n + k) % 4, seed++);
          Out out = Out((m + n + k) % 5);
          expect_same(p, (m + n) % 2 == 0, out, kernel, nullptr, (m * n + k) % 3 == 0);
        }
}

TEST(Int8Gemm, EveryEpilogueOnLargerShape) {
  for (Int8Kernel kernel : available_kernels())
    for (Out out : {Out::I32, Out::F32, Out::F32Bias, Out::F32BiasResidual, Out::I8})
      for (bool per_channel : {false, true})
        for (bool row_scales : {false, true})
          expect_same(make_problem(37, 200, 1100, 9, 3, 7), per_channel, out, kernel, nullptr, row_scales);
}

TEST(Int8Gemm, ManyKBlocksAndRowTails) {
  // K spans several cache blocks (block = 512); M leaves every row remainder of the 6-row tile.
  for (Int8Kernel kernel : available_kernels())
    for (int m : {7, 8, 9, 10, 11, 12})
      expect_same(make_problem(m, 80, 1537, 1, 1, 100 + m), true, Out::F32BiasResidual, kernel);
}

TEST(Int8Gemm, ShapesWithKMultipleOf64) {
  // K % 64 == 0 takes the AMX tile path where available: row tails of the 32-row block, 16-column
  // panel remainders, column tails inside a vector.
  uint32_t seed = 50;
  for (Int8Kernel kernel : available_kernels())
    for (int m : {1, 31, 32, 33, 70})
      for (int n : {16, 48, 65, 100})
        for (int k : {64, 640})
          expect_same(make_problem(m, n, k, (m % 2) * 5, m % 3, seed++), n % 2 == 0, Out((m + n) % 5), kernel,
                      nullptr, (m + k) % 3 != 0);
}

TEST(Int8Gemm, ExtremeValuesStressInt32) {
  // All +-127 with K = 65536: |sum| = 127*127*65536 = 1.06e9 (fits int32; the biased u8 sums wrap).
  const int k = 65536;
  for (int sign : {1, -1}) {
    Problem p = make_problem(3, 20, k, 0, 0, 5);
    for (auto& x : p.a_storage) x = 127;
    for (auto& x : p.w) x = int8_t(127 * sign);
    for (Int8Kernel kernel : available_kernels()) {
      expect_same(p, false, Out::I32, kernel);
      const PackedInt8Matrix packed = pack_int8_weights(p.w.data(), p.n, p.k, p.scales.data(), false);
      std::vector<int32_t> c(size_t(p.m) * p.n);
      Int8Epilogue ep;
      ep.out_i32 = c.data(), ep.ld_out = p.n;
      int8_gemm(p.a(), p.m, p.lda, packed, 1.0f, ep, nullptr, kernel);
      for (int32_t v : c) ASSERT_EQ(v, sign * 127 * 127 * k) << int8_kernel_name(kernel);
    }
  }
  for (Int8Kernel kernel : available_kernels())
    expect_same(make_problem(13, 70, 20000, 0, 0, 6, -127, -120), true, Out::I32, kernel);
}

TEST(Int8Gemm, RequantizedOutputSaturates) {
  Problem p = make_problem(9, 40, 300, 0, 0, 11, 100, 127);  // large positive sums
  for (Int8Kernel kernel : available_kernels()) expect_same(p, true, Out::I8, kernel);
}

TEST(Int8Gemm, EmptyInputsWriteNothing) {
  Problem p = make_problem(4, 8, 16, 0, 0, 3);
  const PackedInt8Matrix packed = pack_int8_weights(p.w.data(), 8, 16, p.scales.data(), true);
  std::vector<float> c(64, -1.0f);
  Int8Epilogue ep;
  ep.out_f32 = c.data(), ep.ld_out = 8;
  for (Int8Kernel kernel : available_kernels()) int8_gemm(p.a(), 0, 16, packed, 1.0f, ep, nullptr, kernel);
  for (float v : c) EXPECT_EQ(v, -1.0f);
  const PackedInt8Matrix none = pack_int8_weights(nullptr, 0, 16, nullptr, true);
  EXPECT_EQ(none.panels, 0);
  ep.ld_out = 0;
  for (Int8Kernel kernel : available_kernels()) int8_gemm(p.a(), 4, 16, none, 1.0f, ep, nullptr, kernel);
  for (float v : c) EXPECT_EQ(v, -1.0f);
  // K = 0: every result is the bias.
  const PackedInt8Matrix no_k = pack_int8_weights(nullptr, 8, 0, p.scales.data(), true);
  ep.ld_out = 8;
  ep.bias = p.bias.data();
  int8_gemm(p.a(), 4, 0, no_k, 1.0f, ep, nullptr);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(c[i], p.bias[i % 8]);
}

TEST(Int8Gemm, ThreadsGiveIdenticalResults) {
  ThreadPool pool(3);
  // Small calls normally stay on the calling thread; force the pool so the threaded paths run.
  const int8_detail::ParallelThreshold saved = int8_detail::parallel_threshold();
  int8_detail::parallel_threshold() = {0.0, 0.0};
  for (Int8Kernel kernel : available_kernels()) {
    // Rows split between the threads (AVX-512 kernels: enough row groups, small weights), narrow and wide N.
    expect_same(make_problem(50, 70, 600, 2, 1, 21), true, Out::F32BiasResidual, kernel, &pool, true);
    expect_same(make_problem(20, 700, 130, 0, 0, 22), false, Out::I8, kernel, &pool);
    expect_same(make_problem(1, 333, 900, 0, 2, 23), true, Out::F32, kernel, &pool);
    // K % 64 == 0 (the AMX path): rows split with column groups taken (and stolen) as tasks.
    expect_same(make_problem(70, 1000, 128, 3, 1, 24), true, Out::F32BiasResidual, kernel, &pool, true);
    expect_same(make_problem(100, 48, 192, 0, 0, 25), false, Out::I8, kernel, &pool);
    expect_same(make_problem(1, 333, 896, 0, 2, 26), true, Out::F32Bias, kernel, &pool);
    // Fewer row groups / blocks than threads: columns split, rows chunked for a narrow N.
    expect_same(make_problem(40, 48, 192, 0, 1, 29), true, Out::F32BiasResidual, kernel, &pool);
    expect_same(make_problem(12, 48, 600, 0, 0, 30), true, Out::F32Bias, kernel, &pool);
  }
  int8_detail::parallel_threshold() = saved;
}

// On several threads the AVX-512 kernels split rows between threads (each prepares and computes its own
// rows) unless the weights are large and each thread would get few rows; then they split columns.
TEST(Int8Gemm, RowAndColumnSplitsAgree) {
  ThreadPool pool(2);
  const int8_detail::ParallelThreshold saved = int8_detail::parallel_threshold();
  int8_detail::parallel_threshold() = {0.0, 0.0};
  for (Int8Kernel kernel : {Int8Kernel::Avx512Vnni, Int8Kernel::Amx}) {
    if (!int8_kernel_available(kernel)) continue;
    expect_same(make_problem(290, 100, 192, 1, 3, 27), true, Out::F32BiasResidual, kernel, &pool, true);
    expect_same(make_problem(33, 2100, 1024, 0, 1, 28), true, Out::F32BiasResidual, kernel, &pool, true);
  }
  int8_detail::parallel_threshold() = saved;
}

TEST(Int8Gemm, PackedLayoutIsDocumented) {
  Problem p = make_problem(1, 70, 9, 0, 0, 31);
  const PackedInt8Matrix packed = pack_int8_weights(p.w.data(), 70, 9, p.scales.data(), true);
  ASSERT_EQ(packed.panels, 2);
  ASSERT_EQ(packed.k4, 3);
  EXPECT_EQ(packed.panel_width(0), 64);
  EXPECT_EQ(packed.panel_width(1), 16);
  for (int n = 0; n < 70; ++n) {
    const int panel = n / 64, c = n % 64, width = packed.panel_width(panel);
    int32_t sum = 0;
    for (int k = 0; k < 12; ++k) {
      const int8_t want = k < 9 ? p.w[size_t(n) * 9 + k] : 0;
      ASSERT_EQ(packed.panel(panel)[(size_t(k / 4) * width + c) * 4 + k % 4], want);
      sum += want;
    }
    EXPECT_EQ(packed.column_sums[n], sum);
    EXPECT_EQ(packed.scales[n], p.scales[n]);
  }
  EXPECT_EQ(packed.column_sums[70], 0);
}

TEST(Int8Gemm, PackedDataUsedInPlaceAndItsColumnsAndRows) {
  // 70 x 9: a narrow last panel and K not a multiple of 4.
  Problem p = make_problem(5, 70, 9, 0, 0, 37);
  const PackedInt8Matrix packed = pack_int8_weights(p.w.data(), 70, 9, p.scales.data(), true);
  ASSERT_EQ(packed.data.size(), packed_int8_bytes(70, 9));
  const PackedInt8Matrix view =
      view_packed_int8(packed.data.data(), packed.data.size(), 70, 9, p.scales.data(), true);
  EXPECT_FALSE(view.data.owned());
  EXPECT_EQ(view.data.data(), packed.data.data());
  for (int n = 0; n < 128; ++n) {
    EXPECT_EQ(view.column_sums[size_t(n)], packed.column_sums[size_t(n)]);
    EXPECT_EQ(view.scales[size_t(n)], packed.scales[size_t(n)]);
  }
  std::vector<float> got(size_t(5) * 70), want(got.size());
  Int8Epilogue ep;
  ep.ld_out = 70;
  ep.out_f32 = got.data();
  int8_gemm(p.a(), 5, p.lda, view, 0.5f, ep, nullptr);
  ep.out_f32 = want.data();
  int8_gemm_reference(p.a(), 5, p.lda, p.w.data(), 70, 9, p.scales.data(), true, 0.5f, ep);
  EXPECT_EQ(got, want);
  std::vector<float> column(70);
  std::vector<int8_t> row(9);
  for (int k = 0; k < 9; ++k) {
    unpack_int8_column(view, k, column.data());
    for (int n = 0; n < 70; ++n)
      EXPECT_EQ(column[size_t(n)], float(p.w[size_t(n) * 9 + size_t(k)]) * p.scales[size_t(n)]);
  }
  for (int n = 0; n < 70; ++n) {
    unpack_int8_row(view, n, row.data());
    for (int k = 0; k < 9; ++k) EXPECT_EQ(row[size_t(k)], p.w[size_t(n) * 9 + size_t(k)]);
  }
  // Corrupt data is refused: a -128, a value in the padding, the wrong size.
  std::vector<int8_t> bad(packed.data.data(), packed.data.data() + packed.data.size());
  bad[3] = -128;
  EXPECT_THROW(view_packed_int8(bad.data(), bad.size(), 70, 9, p.scales.data(), true), Error);
  bad[3] = packed.data[3];
  bad[(size_t(2) * 64 + 5) * 4 + 3] = 1;  // k = 11 >= K in panel 0
  EXPECT_THROW(view_packed_int8(bad.data(), bad.size(), 70, 9, p.scales.data(), true), Error);
  bad[(size_t(2) * 64 + 5) * 4 + 3] = 0;
  EXPECT_NO_THROW(view_packed_int8(bad.data(), bad.size(), 70, 9, p.scales.data(), true));
  EXPECT_THROW(view_packed_int8(bad.data(), bad.size() - 1, 70, 9, p.scales.data(), true), Error);
}

TEST(Int8Gemm, RejectsBadArguments) {
  Problem p = make_problem(2, 8, 16, 0, 0, 3);
  p.w[5] = -128;
  EXPECT_THROW(pack_int8_weights(p.w.data(), 8, 16, p.scales.data(), true), Error);
  p.w[5] = 0;
  const PackedInt8Matrix packed = pack_int8_weights(p.w.data(), 8, 16, p.scales.data(), true);
  std::vector<float> c(16);
  Int8Epilogue ep;
  ep.out_f32 = c.data(), ep.ld_out = 8;
  EXPECT_THROW(int8_gemm(p.a(), 2, 15, packed, 1.0f, ep, nullptr), Error);  // lda < K
  ep.ld_out = 7;
  EXPECT_THROW(int8_gemm(p.a(), 2, 16, packed, 1.0f, ep, nullptr), Error);  // ld_out < N
  ep.ld_out = 8;
  ep.out_i32 = reinterpret_cast<int32_t*>(c.data());
  EXPECT_THROW(int8_gemm(p.a(), 2, 16, packed, 1.0f, ep, nullptr), Error);  // two outputs
}

}  // namespace
}  // namespace llmnpu
