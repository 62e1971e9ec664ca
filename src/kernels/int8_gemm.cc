#include "kernels/int8_gemm.h"

#include <algorithm>
#include <cstring>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/int8_gemm_internal.h"

namespace llmnpu {

int PackedInt8Matrix::panel_width(int p) const {
  int rest = n - p * kPanelColumns;
  return std::min(kPanelColumns, (rest + 15) / 16 * 16);
}

namespace {

// The shape fields, zero column sums and padded scales of an N x K packed matrix (data left empty).
PackedInt8Matrix packed_header(int n, int k, const float* scales, bool per_channel) {
  PackedInt8Matrix p;
  p.n = n;
  p.k = k;
  p.k4 = (k + 3) / 4;
  p.panels = (n + PackedInt8Matrix::kPanelColumns - 1) / PackedInt8Matrix::kPanelColumns;
  p.per_channel = per_channel;
  const size_t padded_n = size_t(p.panels) * PackedInt8Matrix::kPanelColumns;
  p.column_sums = AlignedArray<int32_t>(padded_n);
  p.scales = AlignedArray<float>(padded_n);
  for (size_t c = 0; c < padded_n; ++c) {
    p.column_sums[c] = 0;
    p.scales[c] = c < size_t(n) ? (per_channel ? scales[c] : scales[0]) : 0.0f;
  }
  return p;
}

}  // namespace

PackedInt8Matrix pack_int8_weights(const int8_t* w, int n, int k, const float* scales, bool per_channel) {
  check(n >= 0 && k >= 0, "pack_int8_weights: negative shape ", n, "x", k);
  check(n == 0 || k == 0 || w != nullptr, "pack_int8_weights: null weights");
  check(n == 0 || scales != nullptr, "pack_int8_weights: null scales");
  PackedInt8Matrix p = packed_header(n, k, scales, per_channel);
  p.data = AlignedArray<int8_t>(packed_int8_bytes(n, k));
  if (p.data.size()) std::memset(p.data.data(), 0, p.data.size());
  for (int panel = 0; panel < p.panels; ++panel) {
    const int width = p.panel_width(panel);
    int8_t* dst = p.data.data() + size_t(panel) * PackedInt8Matrix::kPanelBytesPerK4 * size_t(p.k4);
    for (int c = 0; c < width; ++c) {
      const int col = panel * PackedInt8Matrix::kPanelColumns + c;
      if (col >= n) break;
      const int8_t* src = w + size_t(col) * size_t(k);
      int32_t sum = 0;
      for (int kk = 0; kk < k; ++kk) {
        if (src[kk] == -128)
          fail("pack_int8_weights: weight -128 at [", col, "][", kk, "] (range is -127..127)");
        dst[(size_t(kk / 4) * width + c) * 4 + kk % 4] = src[kk];
        sum += src[kk];
      }
      p.column_sums[col] = sum;
    }
  }
  return p;
}

size_t packed_int8_bytes(int n, int k) {
  const size_t panels = (size_t(n) + PackedInt8Matrix::kPanelColumns - 1) / PackedInt8Matrix::kPanelColumns;
  return panels * PackedInt8Matrix::kPanelBytesPerK4 * ((size_t(k) + 3) / 4);
}

PackedInt8Matrix view_packed_int8(const int8_t* data, size_t bytes, int n, int k, const float* scales,
                                  bool per_channel) {
  check(n > 0 && k > 0, "packed int8 weights: empty shape ", n, "x", k);
  check(data != nullptr && scales != nullptr, "packed int8 weights: null data or scales");
  check(bytes == packed_int8_bytes(n, k), "packed int8 weights: ", bytes, " bytes, a ", n, "x", k,
        " matrix packs to ", packed_int8_bytes(n, k));
  PackedInt8Matrix p = packed_header(n, k, scales, per_channel);
  p.data = AlignedArray<int8_t>::view(data, bytes);
  // One pass over the panels: column sums, and the two things the kernels rely on (no -128; padding
  // columns and padding k zero), so a corrupt file is an error rather than wrong sums.
  for (int panel = 0; panel < p.panels; ++panel) {
    const int width = p.panel_width(panel);
    const int8_t* src = p.panel(panel);
    const size_t used = size_t(width) * 4 * size_t(p.k4);
    const size_t stored = size_t(PackedInt8Matrix::kPanelBytesPerK4) * size_t(p.k4);
    for (size_t i = used; i < stored; ++i)
      check(src[i] == 0, "packed int8 weights: panel ", panel, " has data past its ", width, " columns");
    int32_t sums[PackedInt8Matrix::kPanelColumns] = {};
    bool bad = false;
    for (int g = 0; g < p.k4; ++g)
      for (int c = 0; c < width; ++c)
        for (int j = 0; j < 4; ++j) {
          const int8_t v = src[(size_t(g) * size_t(width) + size_t(c)) * 4 + size_t(j)];
          bad |= v == -128;
          bad |= v != 0 && (panel * PackedInt8Matrix::kPanelColumns + c >= n || g * 4 + j >= k);
          sums[c] += v;
        }
    check(!bad, "packed int8 weights: panel ", panel, " holds -128 or a non-zero padding value");
    for (int c = 0; c < width; ++c)
      p.column_sums[size_t(panel) * PackedInt8Matrix::kPanelColumns + size_t(c)] = sums[c];
  }
  return p;
}

void unpack_int8_column(const PackedInt8Matrix& w, int k, float* out) {
  check(k >= 0 && k < w.k, "unpack_int8_column: column ", k, " outside 0..", w.k - 1);
  const size_t g = size_t(k / 4), j = size_t(k % 4);
  for (int panel = 0; panel < w.panels; ++panel) {
    const int width = w.panel_width(panel);
    const int8_t* src = w.panel(panel) + g * size_t(width) * 4 + j;
    const int n0 = panel * PackedInt8Matrix::kPanelColumns, n1 = std::min(w.n, n0 + width);
    for (int n = n0; n < n1; ++n) out[n] = float(src[size_t(n - n0) * 4]) * w.scales[size_t(n)];
  }
}

void unpack_int8_row(const PackedInt8Matrix& w, int n, int8_t* out) {
  check(n >= 0 && n < w.n, "unpack_int8_row: row ", n, " outside 0..", w.n - 1);
  const int panel = n / PackedInt8Matrix::kPanelColumns, c = n % PackedInt8Matrix::kPanelColumns;
  const int width = w.panel_width(panel);
  const int8_t* src = w.panel(panel) + size_t(c) * 4;
  for (int k = 0; k < w.k; ++k) out[k] = src[(size_t(k / 4) * size_t(width)) * 4 + size_t(k % 4)];
}

namespace int8_detail {
ParallelThreshold& parallel_threshold() {
  static ParallelThreshold threshold;
  return threshold;
}
}  // namespace int8_detail

namespace {

void validate(const int8_t* a, int m, int lda, const PackedInt8Matrix& w, const Int8Epilogue& ep) {
  check(m >= 0, "int8_gemm: negative row count ", m);
  check(lda >= w.k, "int8_gemm: lda ", lda, " < K ", w.k);
  int outputs = (ep.out_f32 != nullptr) + (ep.out_i8 != nullptr) + (ep.out_i32 != nullptr);
  check(outputs == 1, "int8_gemm: set exactly one of out_f32, out_i8, out_i32");
  check(ep.ld_out >= w.n, "int8_gemm: ld_out ", ep.ld_out, " < N ", w.n);
  check(!ep.residual || ep.ld_residual >= w.n, "int8_gemm: ld_residual ", ep.ld_residual, " < N ", w.n);
  check(!ep.out_i8 || (ep.out_scale > 0.0f && std::isfinite(ep.out_scale)), "int8_gemm: bad out_scale ",
        ep.out_scale);
  check(m == 0 || w.k == 0 || a != nullptr, "int8_gemm: null activations");
}

// Portable fallback on the packed layout: plain signed products, no correction needed.
void gemm_scalar(const int8_detail::GemmArgs& g) {
  const PackedInt8Matrix& w = *g.w;
  for (int p = 0; p < w.panels; ++p) {
    const int width = w.panel_width(p);
    const int8_t* panel = w.panel(p);
    for (int c = 0; c < width; ++c) {
      const int col = p * PackedInt8Matrix::kPanelColumns + c;
      if (col >= w.n) break;
      const float scale = g.a_scale * w.scales[col];
      for (int row = 0; row < g.m; ++row) {
        const int8_t* a = g.a + size_t(row) * size_t(g.lda);
        int32_t acc = 0;
        for (int kk = 0; kk < w.k; ++kk)
          acc += int32_t(a[kk]) * panel[(size_t(kk / 4) * width + c) * 4 + kk % 4];
        int8_detail::store_one(*g.ep, row, col, acc, scale);
      }
    }
  }
}

// Handing a call to the pool costs a hand-off to the other threads (about a microsecond while they spin,
// several when they sleep), so calls that one thread finishes in a few microseconds stay on the caller:
// fewer than 512 KiB of weights to stream and fewer than 8M multiply-adds (~10 us for AMX).
bool worth_threads(int m, const PackedInt8Matrix& w) {
  const double weight_bytes = double(w.n) * w.k, macs = double(m) * weight_bytes;
  const int8_detail::ParallelThreshold& t = int8_detail::parallel_threshold();
  return weight_bytes >= t.weight_bytes || macs >= t.macs;
}

// AMX computes at least 32 rows per block; for a few rows (decode) the VNNI kernel, which streams the
// weights once for up to 6 rows, is faster (measured: M = 1 at 0.7x with AMX, M = 32 at 3x).
constexpr int kAmxMinRows = 5;

}  // namespace

Int8Kernel best_int8_kernel() {
  static const Int8Kernel best = [] {
    for (Int8Kernel k : {Int8Kernel::Amx, Int8Kernel::Avx512Vnni, Int8Kernel::Avx2Vnni, Int8Kernel::Avx2,
                         Int8Kernel::NeonI8mm, Int8Kernel::NeonDotprod, Int8Kernel::Neon})
      if (int8_kernel_available(k)) return k;
    return Int8Kernel::Scalar;
  }();
  return best;
}

bool int8_kernel_available(Int8Kernel kernel) {
  const CpuFeatures& f = cpu_features();
  switch (kernel) {
    case Int8Kernel::Auto:
    case Int8Kernel::Scalar: return true;
#if defined(__x86_64__)
    case Int8Kernel::Avx2: return f.has_avx2_path();
    case Int8Kernel::Avx2Vnni: return f.has_avx2_path() && f.avx_vnni;
    case Int8Kernel::Avx512Vnni: return f.has_avx512_vnni_path();
    case Int8Kernel::Amx:
      return f.has_avx512_vnni_path() && f.amx_allowed && int8_detail::amx_int8_available();
#elif defined(__aarch64__)
    case Int8Kernel::Neon: return f.neon;
    case Int8Kernel::NeonDotprod: return f.dotprod;
    case Int8Kernel::NeonI8mm: return f.i8mm;
#endif
    default: return false;
  }
}

const char* int8_kernel_name(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Auto: return int8_kernel_name(best_int8_kernel());
    case Int8Kernel::Scalar: return "scalar";
    case Int8Kernel::Avx2: return "avx2";
    case Int8Kernel::Avx2Vnni: return "avx2-vnni";
    case Int8Kernel::Avx512Vnni: return "avx512-vnni";
    case Int8Kernel::Amx: return "amx-int8";
    case Int8Kernel::Neon: return "neon";
    case Int8Kernel::NeonDotprod: return "neon-dotprod";
    case Int8Kernel::NeonI8mm: return "neon-i8mm";
  }
  return "?";
}

void int8_gemm(const int8_t* a, int m, int lda, const PackedInt8Matrix& w, float a_scale,
               const Int8Epilogue& ep, ThreadPool* pool, Int8Kernel kernel) {
  validate(a, m, lda, w, ep);
  if (m == 0 || w.n == 0) return;
  if (kernel == Int8Kernel::Auto) kernel = best_int8_kernel();
  check(int8_kernel_available(kernel), "int8_gemm: kernel ", int8_kernel_name(kernel),
        " not supported by this CPU");
  const int8_detail::GemmArgs args{a, m, lda, &w, a_scale, &ep};
  if (pool && !worth_threads(m, w)) pool = nullptr;
  switch (kernel) {
#if defined(__x86_64__)
    case Int8Kernel::Amx:
      if (w.k % 64 == 0 && w.k > 0 && m >= kAmxMinRows) {
        int8_detail::gemm_amx(args, pool);
        return;
      }
      int8_detail::gemm_avx512_vnni(args, pool);
      return;
    case Int8Kernel::Avx512Vnni: int8_detail::gemm_avx512_vnni(args, pool); return;
    case Int8Kernel::Avx2Vnni: int8_detail::gemm_avx2(args, pool, true); return;
    case Int8Kernel::Avx2: int8_detail::gemm_avx2(args, pool, false); return;
#elif defined(__aarch64__)
    case Int8Kernel::NeonI8mm:
      if (m >= 2) {
        int8_detail::gemm_neon_i8mm(args, pool);
        return;
      }
      int8_detail::gemm_neon_dotprod(args, pool);
      return;
    case Int8Kernel::NeonDotprod: int8_detail::gemm_neon_dotprod(args, pool); return;
    case Int8Kernel::Neon: int8_detail::gemm_neon(args, pool); return;
#endif
    default: gemm_scalar(args); return;
  }
}

void int8_gemm_reference(const int8_t* a, int m, int lda, const int8_t* w, int n, int k,
                         const float* w_scales, bool per_channel, float a_scale, const Int8Epilogue& ep) {
  for (int row = 0; row < m; ++row) {
    for (int col = 0; col < n; ++col) {
      int32_t acc = 0;
      for (int kk = 0; kk < k; ++kk)
        acc += int32_t(a[size_t(row) * lda + kk]) * int32_t(w[size_t(col) * k + kk]);
      int8_detail::store_one(ep, row, col, acc, a_scale * w_scales[per_channel ? col : 0]);
    }
  }
}

}  // namespace llmnpu
