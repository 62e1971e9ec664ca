#include "backend/int8_linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/int8_linear_kernels.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/half.h"
#include "core/half_rows.h"
#include "core/thread_pool.h"
#include "kernels/activation.h"
#include "kernels/float_gemm.h"
#include "kernels/quantize_outliers.h"
#include "kernels/swiglu_quantize.h"
#include "quant/activation_quant.h"

namespace llmnpu {
namespace {

// Per calling thread, grown on demand and reused: no allocation per call once warm.
struct Scratch {
  std::vector<int8_t> q;
  std::vector<kernels::OutlierEntry> outliers;
  std::vector<std::vector<kernels::OutlierEntry>> parts;  // per pool thread, prefill quantization
  std::vector<size_t> part_begin;                         // first row of each part, -1 when unused
  std::vector<size_t> row_begin;        // [T + 1] offsets of each row's entries in `outliers`
  std::vector<const uint16_t*> source;  // per entry: its F16 weight column W[:, channel]
  std::vector<uint32_t> seen;           // [K] call stamp per channel (counting distinct channels)
  uint32_t stamp = 0;
  std::vector<int32_t> cold_slot;      // [K]: the channel's row in cold_rows (valid when seen this call)
  std::vector<int32_t> cold_channels;  // the cold channels of this call, in slot order
  std::vector<uint16_t> cold_rows;     // F16 [cold][N]: their columns decoded from the int8 weights
  std::vector<float> column;           // [N]: one decoded column
  std::vector<float> head_panel;       // [64][K]: head rows converted from F16
  std::vector<int8_t> head_q;          // the head input quantized per block of 32
  std::vector<float> row_scales;
  AlignedArray<uint8_t> biased;      // also the head's activation magnitudes
  std::vector<uint64_t> sign_masks;  // the decode row + 128, K padded to whole groups of 4
  std::vector<float> delta;          // [rows with entries][N]: the host's shadow sums (placed calls)
  std::vector<size_t> delta_rows;    // the rows with entries, in order
  std::vector<int32_t> over_rows;    // rows beyond the shadow budget, increasing
  std::vector<uint8_t> over_flag;    // [T]: 1 for those rows
  std::vector<float> over_scales;    // [T]: each row's activation scale / the static one
  std::vector<float> over_input;     // per pool thread: one h = silu(gate) * up row
};
thread_local Scratch tls_scratch;

using int8_linear_detail::kHeadBlockK4;

template <typename V>
typename V::value_type* grow(V& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

template <bool kAdd>
void shadow_rows_scalar(const kernels::OutlierEntry* e, const uint16_t* const* rows, size_t count, int n0,
                        int n1, float* y) {
  for (int n = n0; n < n1; ++n) {
    float d = 0;
    for (size_t i = 0; i < count; ++i) d = std::fma(e[i].value, half_to_float(rows[i][n]), d);
    y[n] = kAdd ? y[n] + d : d;
  }
}

template <bool kAdd>
void shadow_rows(const kernels::OutlierEntry* e, const uint16_t* const* rows, size_t count, int n0, int n1,
                 float* y) {
#if defined(__x86_64__)
  static const bool avx512 = cpu_features().avx512f && cpu_features().f16c && cpu_features().fma;
  if (avx512) return int8_linear_detail::shadow_rows_avx512<kAdd>(e, rows, count, n0, n1, y);
#elif defined(__aarch64__)
  if (cpu_features().neon) return int8_linear_detail::shadow_rows_neon<kAdd>(e, rows, count, n0, n1, y);
#endif
  shadow_rows_scalar<kAdd>(e, rows, count, n0, n1, y);
}

// The entries the quantizer would make for this row (|x * inv| > 127; NaN is not one) and the row's
// largest magnitude, in one pass that vectorizes: non-negative floats order like their bit patterns.
size_t count_clipped(const float* x, int k, float inv, float* largest) {
  size_t count = 0;
  uint32_t top = 0;
  for (int i = 0; i < k; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    top = std::max(top, bits & 0x7fffffffu);
    count += std::fabs(x[i] * inv) > 127.0f ? 1 : 0;
  }
  std::memcpy(largest, &top, sizeof top);
  return count;
}

// Streaming work over panels, handed out in runs from a shared counter: on shared cores a thread that
// gets descheduled leaves its share to the others instead of holding up the whole call.
template <typename Fn>
void share_panels(ThreadPool* pool, const PackedInt8Matrix& w, const Fn& fn) {
  const int panels = w.panels, threads = pool->size();
  // Guided: a grab is a share of what is left (first grabs large, the last ones single panels), so the
  // threads finish within about one panel of each other.
  std::atomic<int> next{0};
  pool->run_on_all([&](int) {
    for (;;) {
      int p0 = next.load(std::memory_order_relaxed), run = 0;
      do {
        if (p0 >= panels) return;
        run = std::max(1, (panels - p0) / (2 * threads));
      } while (!next.compare_exchange_weak(p0, p0 + run, std::memory_order_relaxed));
      fn(p0, std::min(panels, p0 + run));
    }
  });
}

// One row (decode) into fp32: the streaming kernel where the CPU has one (AVX-512 VNNI, SDOT), else
// int8_gemm.
void int8_gemv(const int8_t* a, const PackedInt8Matrix& w, float a_scale, const Int8Epilogue& ep,
               ThreadPool* pool) {
  if (ep.row_scales) {  // one row: its own scale is the call's scale
    Int8Epilogue plain = ep;
    plain.row_scales = nullptr;
    return int8_gemv(a, w, a_scale * ep.row_scales[0], plain, pool);
  }
#if defined(__x86_64__)
  static const bool streaming = cpu_features().has_avx512_vnni_path();
#elif defined(__aarch64__)
  static const bool streaming = cpu_features().dotprod;
#else
  constexpr bool streaming = false;
#endif
  if (!streaming || !ep.out_f32) return int8_gemm(a, 1, w.k, w, a_scale, ep, pool);
  Scratch& s = tls_scratch;
  const size_t padded = size_t(w.k4) * 4 + 16;  // whole groups of 4, and 16 bytes a vector load may touch
  if (s.biased.size() < padded) s.biased = AlignedArray<uint8_t>(padded);
#if defined(__x86_64__)
  uint8_t* biased = s.biased.data();
  int8_linear_detail::gemv_operand_avx512(a, w.k, padded, biased);
  auto run = [&](int p0, int p1) { int8_linear_detail::gemv_panels_avx512(biased, w, a_scale, ep, p0, p1); };
#else
  int8_t* copy = reinterpret_cast<int8_t*>(s.biased.data());
  std::memcpy(copy, a, size_t(w.k));
  std::memset(copy + w.k, 0, padded - size_t(w.k));
  auto run = [&](int p0, int p1) { int8_linear_detail::gemv_panels_dotprod(copy, w, a_scale, ep, p0, p1); };
#endif
  // Threads only pay off once there is real streaming to share (a wake-up costs microseconds).
  const size_t bytes = size_t(w.panels) * PackedInt8Matrix::kPanelBytesPerK4 * size_t(w.k4);
  if (pool && pool->size() > 1 && w.panels > 1 && bytes >= 256 * 1024)
    share_panels(pool, w, run);
  else
    run(0, w.panels);
}

// Column k of the int8 weights times their scales, in F16: the shadow row of a channel without a
// resident one. column: N floats of scratch for the portable version.
void decode_shadow_row(const PackedInt8Matrix& w, int k, float* column, uint16_t* out) {
#if defined(__x86_64__)
  static const bool avx512 = cpu_features().avx512f && cpu_features().f16c;
  if (avx512) return int8_linear_detail::decode_shadow_row_avx512(w, k, out);
#elif defined(__aarch64__)
  if (cpu_features().neon) return int8_linear_detail::decode_shadow_row_neon(w, k, out);
#endif
  unpack_int8_column(w, k, column);
  for (int n = 0; n < w.n; ++n) out[n] = float_to_half(column[n]);
}

}  // namespace

Int8Linear::Int8Linear(const Int8LinearSpec& s)
    : LinearOp(s.in, s.out), act_scale_(s.act_scale), shadow_(s.shadow) {
  check(s.in > 0 && s.out > 0, "int8 linear: empty shape ", s.out, "x", s.in);
  check((s.weight || s.packed_weight) && s.weight_scales, "int8 linear: missing weights or weight scales");
  check(std::isfinite(s.act_scale) && s.act_scale > 0, "int8 linear: activation scale ", s.act_scale,
        " is not a positive number");
  const size_t nscales = s.per_channel ? size_t(s.out) : 1;
  for (size_t i = 0; i < nscales; ++i)
    check(std::isfinite(s.weight_scales[i]) && s.weight_scales[i] > 0, "int8 linear: weight scale ", i,
          " is not a positive number");
  if (s.packed_weight) {
    packed_ = view_packed_int8(s.packed_weight, s.packed_bytes, s.out, s.in, s.weight_scales, s.per_channel);
  } else {
    // A plain test per element (check() with its message arguments would be a call per weight).
    for (size_t i = 0; i < size_t(s.in) * size_t(s.out); ++i)
      if (s.weight[i] == -128) fail("int8 linear: weight value -128 (the symmetric range is -127..127)");
    packed_ = pack_int8_weights(s.weight, s.out, s.in, s.weight_scales, s.per_channel);
  }
  per_channel_ = s.per_channel;
  if (s.bias) bias_.assign(s.bias, s.bias + s.out);
  check(s.hot_channels.empty() || s.hot_rows, "int8 linear: hot channels without hot rows");
  set_hot(s.hot_channels, s.hot_rows);
  warm_index_.assign(size_t(s.in), -1);
  check(s.warm_channels.empty() || s.warm_rows, "int8 linear: warm channels without warm rows");
  for (size_t i = 0; i < s.warm_channels.size(); ++i) {
    const int32_t k = s.warm_channels[i];
    check(k >= 0 && k < s.in && (i == 0 || s.warm_channels[i - 1] < k), "int8 linear: warm channel ", k,
          " out of range or not increasing");
    check(hot_index_[size_t(k)] < 0, "int8 linear: channel ", k, " is both hot and warm");
    warm_index_[size_t(k)] = int32_t(i);
  }
  warm_rows_ = s.warm_rows;
  warm_count_ = s.warm_channels.size();
  check(s.weight_outliers == 0 || (s.weight_outlier_index && s.weight_outlier_value),
        "int8 linear: weight outliers without indices or values");
  const int64_t total = int64_t(s.in) * int64_t(s.out);
  int64_t previous = -1;
  for (size_t i = 0; i < s.weight_outliers; ++i) {
    const int64_t idx = s.weight_outlier_index[i];
    check(idx > previous && idx < total, "int8 linear: weight outlier index ", idx,
          " is out of range or not increasing");
    check(std::isfinite(s.weight_outlier_value[i]), "int8 linear: weight outlier ", i, " is not finite");
    previous = idx;
    outlier_row_.push_back(int32_t(idx / s.in));
    outlier_col_.push_back(int32_t(idx % s.in));
    outlier_value_.push_back(s.weight_outlier_value[i]);
  }
}

void Int8Linear::add_weight_outliers(const float* x, int T, size_t ldx, float* y, size_t ldy) const {
  const size_t count = outlier_value_.size();
  for (int t = 0; t < T; ++t) {
    const float* xr = x + size_t(t) * ldx;
    float* yr = y + size_t(t) * ldy;
    for (size_t i = 0; i < count; ++i)
      yr[outlier_row_[i]] = std::fma(xr[outlier_col_[i]], outlier_value_[i], yr[outlier_row_[i]]);
  }
}

void Int8Linear::set_hot(std::vector<int32_t> channels, const uint16_t* rows) {
  hot_index_.assign(size_t(in_features()), -1);
  for (size_t i = 0; i < channels.size(); ++i) {
    int32_t k = channels[i];
    check(k >= 0 && k < in_features(), "int8 linear: hot channel ", k, " outside 0..", in_features() - 1);
    check(hot_index_[size_t(k)] < 0, "int8 linear: hot channel ", k, " listed twice");
    hot_index_[size_t(k)] = int32_t(i);
  }
  const size_t N = size_t(out_features());
  hot_rows_.assign(rows, rows + channels.size() * N);
  hot_channels_ = std::move(channels);
}

void Int8Linear::make_all_resident() {
  const size_t K = size_t(in_features()), N = size_t(out_features());
  std::vector<int32_t> all(K);
  std::vector<uint16_t> rows(K * N);
  std::vector<float> column(N);
  for (size_t k = 0; k < K; ++k) {  // each channel's row as a call would find it
    all[k] = int32_t(k);
    const int32_t h = hot_index_[k], m = warm_index_[k];
    if (h >= 0)
      std::copy_n(hot_rows_.data() + size_t(h) * N, N, rows.data() + k * N);
    else if (m >= 0)
      std::copy_n(warm_rows_ + size_t(m) * N, N, rows.data() + k * N);
    else
      decode_shadow_row(packed_, int(k), column.data(), rows.data() + k * N);
  }
  set_hot(std::move(all), rows.data());
  std::fill(warm_index_.begin(), warm_index_.end(), -1);
  warm_count_ = 0;
}

void Int8Linear::make_all_cold() { set_hot({}, nullptr); }

Int8Linear::Counters Int8Linear::counters() const {
  return {calls_.load(),     outliers_.load(), hot_hits_.load(),
          cold_hits_.load(), placed_.load(),   fallback_rows_.load()};
}

std::string Int8Linear::describe() const {
  std::string d = shadow_ ? "w8a8+shadow" : "w8a8";
  return d + str(" (int8 on the accelerator role: ", int8_kernel_name(best_int8_kernel()), " on CPU cores)");
}

void Int8Linear::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                         ThreadPool* pool) const {
  if (T <= 0) return;
  calls_.fetch_add(1, std::memory_order_relaxed);
  if (T == 1 && decode_ == DecodeQuant::DynamicRow)
    return forward_dynamic(x, T, ldx, y, ldy, accumulate, pool);
  forward_static(x, T, ldx, y, ldy, accumulate, pool);
}

void Int8Linear::forward_placed(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                                ThreadPool* pool, const ShadowPlacement& where) const {
  if (T <= 0) return;
  calls_.fetch_add(1, std::memory_order_relaxed);
  if (T == 1 && decode_ == DecodeQuant::DynamicRow)
    return forward_dynamic(x, T, ldx, y, ldy, accumulate, pool);
  forward_static(x, T, ldx, y, ldy, accumulate, pool, nullptr, &where);
}

void Int8Linear::forward_swiglu(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                                ThreadPool* pool) const {
  forward_swiglu_impl(gate_up, T, ld, y, ldy, accumulate, pool, nullptr);
}

void Int8Linear::forward_swiglu_placed(float* gate_up, int T, size_t ld, float* y, size_t ldy,
                                       bool accumulate, ThreadPool* pool,
                                       const ShadowPlacement& where) const {
  forward_swiglu_impl(gate_up, T, ld, y, ldy, accumulate, pool, &where);
}

void Int8Linear::forward_swiglu_impl(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                                     ThreadPool* pool, const ShadowPlacement* where) const {
  if (T <= 0) return;
  const size_t n = size_t(in_features());
  check(ld >= 2 * n, "forward_swiglu: row stride ", ld, " is smaller than gate + up (", 2 * n, ")");
  if ((T == 1 && decode_ == DecodeQuant::DynamicRow) || !outlier_value_.empty()) {
    if (!where) return LinearOp::forward_swiglu(gate_up, T, ld, y, ldy, accumulate, pool);
    // h = silu(gate) * up written over the gate half (as LinearOp::forward_swiglu), then the placed forward.
    auto rows = [&](size_t t0, size_t t1) {
      for (size_t t = t0; t < t1; ++t)
        kernels::silu_mul(gate_up + t * ld, gate_up + t * ld + n, gate_up + t * ld, n);
    };
    if (pool && T > 1)
      pool->parallel_for(size_t(T), [&](int, size_t t0, size_t t1) { rows(t0, t1); });
    else
      rows(0, size_t(T));
    return forward_placed(gate_up, T, ld, y, ldy, accumulate, pool, *where);
  }
  calls_.fetch_add(1, std::memory_order_relaxed);
  forward_static(gate_up, T, ld, y, ldy, accumulate, pool, gate_up + n, where);
}

void Int8Linear::forward_static(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                                ThreadPool* pool, const float* up, const ShadowPlacement* where) const {
  const int K = in_features(), N = out_features();
  // Decode runs on the host, where a shadow path costs no accelerator synchronisation: always on.
  const bool shadow = shadow_ || T == 1;
  Scratch& s = tls_scratch;
  int8_t* q = grow(s.q, size_t(T) * size_t(K));
  // Bounded shadow work: a row with more outlier entries than the budget is far from what calibration
  // saw (e.g. a token whose embedding lacks the massive channels), and its shadow pass would approach a
  // dense fp32 GEMM. Such a row is quantized with its own dynamic scale instead (nothing clipped, no
  // entries), decided by counting its entries before quantizing; the GEMM's epilogue applies each row's
  // scale, so those rows cost no second pass. A pruned linear (no shadow) clips every row.
  const size_t budget = size_t(row_entry_budget());
  const float inv = 1.0f / act_scale_;  // the quantizer's reciprocal
  const size_t threads = pool ? size_t(pool->size()) : 1;
  float* scales = shadow ? grow(s.over_scales, size_t(T)) : nullptr;
  uint8_t* over_flag = shadow ? grow(s.over_flag, size_t(T)) : nullptr;
  float* inputs = shadow && up ? grow(s.over_input, threads * size_t(K)) : nullptr;
  // Rows [r0, r1) into q; entries (absolute row numbers) appended to list.
  auto quantize_rows = [&](int thread, size_t r0, size_t r1, std::vector<kernels::OutlierEntry>* list) {
    const size_t first = list->size();
    if (!shadow) {
      if (up)
        kernels::silu_mul_quantize_with_outliers(x + r0 * ldx, up + r0 * ldx, int(r1 - r0), K, ldx,
                                                 act_scale_, q + r0 * size_t(K), K, list);
      else
        quantize_with_outliers(x + r0 * ldx, int(r1 - r0), K, int(ldx), act_scale_, q + r0 * size_t(K), K,
                               list);
      for (size_t i = first; i < list->size(); ++i) (*list)[i].row += int32_t(r0);
      return;
    }
    std::vector<kernels::OutlierEntry> none;  // a dynamic scale covers the largest value: stays empty
    for (size_t r = r0; r < r1; ++r) {
      const float* row = x + r * ldx;
      if (up) {  // h = silu(gate) * up, one row in L1 (the same kernel as the two-step path)
        float* h = inputs + size_t(thread) * size_t(K);
        kernels::silu_mul(row, up + r * ldx, h, size_t(K));
        row = h;
      }
      int8_t* qr = q + r * size_t(K);
      float largest = 0;
      if (count_clipped(row, K, inv, &largest) > budget) {
        const float scale = largest > 0 && std::isfinite(largest) ? largest / 127.0f : act_scale_;
        none.clear();
        quantize_with_outliers(row, 1, K, K, scale, qr, K, &none);
        scales[r] = scale / act_scale_;
        over_flag[r] = 1;
      } else {
        const size_t row_first = list->size();
        quantize_with_outliers(row, 1, K, K, act_scale_, qr, K, list);
        for (size_t i = row_first; i < list->size(); ++i) (*list)[i].row = int32_t(r);
        scales[r] = 1.0f;
        over_flag[r] = 0;
      }
    }
  };
  s.outliers.clear();
  if (pool && pool->size() > 1 && T >= 16) {
    // Rows split over threads, one outlier list per thread, joined in row order (ranges are contiguous).
    if (s.parts.size() < threads) s.parts.resize(threads);
    if (s.part_begin.size() < threads) s.part_begin.resize(threads);
    for (size_t i = 0; i < threads; ++i) s.parts[i].clear(), s.part_begin[i] = size_t(-1);
    pool->parallel_for(size_t(T), [&](int i, size_t r0, size_t r1) {
      s.part_begin[size_t(i)] = r0;
      quantize_rows(i, r0, r1, &s.parts[size_t(i)]);
    });
    for (size_t done = 0; done < threads; ++done) {
      size_t next = threads;
      for (size_t i = 0; i < threads; ++i)
        if (s.part_begin[i] != size_t(-1) && (next == threads || s.part_begin[i] < s.part_begin[next]))
          next = i;
      if (next == threads) break;
      if (shadow) s.outliers.insert(s.outliers.end(), s.parts[next].begin(), s.parts[next].end());
      s.part_begin[next] = size_t(-1);
    }
  } else {
    quantize_rows(0, 0, size_t(T), &s.outliers);
    if (!shadow) s.outliers.clear();
  }
  std::vector<int32_t>& over = s.over_rows;
  over.clear();
  if (shadow)
    for (int r = 0; r < T; ++r)
      if (over_flag[r]) over.push_back(r);
  const float* row_scales = over.empty() ? nullptr : scales;

  // The shadow plan, before the GEMM (a placed call's host work runs during it). Each entry's weight
  // column (F16): the resident hot row, or for a cold channel its int8 column times the weight scales,
  // decoded once per call. Distinct channels are found with a per-thread stamp (no clearing pass).
  const size_t count = s.outliers.size();
  const kernels::OutlierEntry* list = s.outliers.data();
  const uint16_t** source = grow(s.source, count);
  size_t* begin = grow(s.row_begin, size_t(T) + 1);
  uint64_t hot = 0, cold = 0, warm = 0;
  if (count > 0) {
    uint32_t* seen = grow(s.seen, size_t(K));
    if (++s.stamp == 0) {
      std::fill(s.seen.begin(), s.seen.end(), 0u);
      s.stamp = 1;
    }
    int32_t* slot = grow(s.cold_slot, size_t(K));
    s.cold_channels.clear();
    for (size_t i = 0; i < count; ++i) {
      const int32_t k = list[i].channel;
      if (seen[size_t(k)] == s.stamp) continue;
      seen[size_t(k)] = s.stamp;
      if (hot_index_[size_t(k)] >= 0) {
        ++hot;
      } else if (warm_index_[size_t(k)] >= 0) {
        ++warm;
      } else {
        slot[size_t(k)] = int32_t(s.cold_channels.size());
        s.cold_channels.push_back(k);
      }
    }
    cold = warm + s.cold_channels.size();
    uint16_t* cold_rows = grow(s.cold_rows, s.cold_channels.size() * size_t(N));
    float* column = grow(s.column, size_t(N));
    for (size_t c = 0; c < s.cold_channels.size(); ++c)
      decode_shadow_row(packed_, s.cold_channels[c], column, cold_rows + c * size_t(N));
    for (size_t i = 0; i < count; ++i) {
      const int32_t k = list[i].channel;
      const int32_t h = hot_index_[size_t(k)];
      const int32_t m = warm_index_[size_t(k)];
      source[i] = h >= 0   ? hot_rows_.data() + size_t(h) * size_t(N)
                  : m >= 0 ? warm_rows_ + size_t(m) * size_t(N)
                           : cold_rows + size_t(slot[k]) * size_t(N);
    }
    // Entries come sorted by row: one pass over each output row adds all of that row's entries.
    for (size_t i = 0, r = 0; r <= size_t(T); ++r) {
      while (i < count && size_t(list[i].row) < r) ++i;
      begin[r] = i;
    }
  }
  // Columns in blocks, rows inside: a block of every entry's weight row stays in L2 while the rows pass
  // (matters when many cold channels show up, e.g. in rows far from the calibration distribution).
  constexpr int kColumnBlock = 512;
  const bool big = count * size_t(N) >= 64 * 1024;  // worth splitting over threads
  const bool placed =
      where && where->sink && T > 1 && count > 0 && count * size_t(N) >= where->sink->min_work();
  int ticket = -1;
  if (placed) {
    // The host's part: each row with entries gets its sums in its own delta row.
    s.delta_rows.clear();
    for (size_t r = 0; r < size_t(T); ++r)
      if (begin[r + 1] > begin[r]) s.delta_rows.push_back(r);
    float* delta = grow(s.delta, s.delta_rows.size() * size_t(N));
    const size_t* rows_with = s.delta_rows.data();
    const size_t n_rows = s.delta_rows.size();
    auto job = [=](ThreadPool* host) {
      auto part = [&](size_t i0, size_t i1) {
        for (int n0 = 0; n0 < N; n0 += kColumnBlock)
          for (size_t i = i0; i < i1; ++i) {
            const size_t r = rows_with[i];
            shadow_rows<false>(list + begin[r], source + begin[r], begin[r + 1] - begin[r], n0,
                               std::min(N, n0 + kColumnBlock), delta + i * size_t(N));
          }
      };
      if (host && host->size() > 1 && n_rows > 1 && big)
        host->parallel_for(n_rows, [&](int, size_t i0, size_t i1) { part(i0, i1); });
      else
        part(0, n_rows);
    };
    ticket = where->sink->post(job, where->label);
  }

  Int8Epilogue ep;
  ep.bias = bias_.empty() ? nullptr : bias_.data();
  ep.residual = accumulate ? y : nullptr;
  ep.ld_residual = int(ldy);
  ep.out_f32 = y;
  ep.ld_out = int(ldy);
  ep.row_scales = row_scales;
  if (T == 1)
    int8_gemv(q, packed_, act_scale_, ep, pool);
  else
    int8_gemm(q, T, K, packed_, act_scale_, ep, pool);
  if (!up) add_weight_outliers(x, T, ldx, y, ldy);  // (forward_swiglu takes this path only without them)
  if (placed) {
    // Merge: y = y + d, row by row (the same add the inline pass makes).
    where->sink->join(ticket, pool);
    const float* delta = s.delta.data();
    const size_t* rows_with = s.delta_rows.data();
    auto merge = [&](size_t i0, size_t i1) {
      for (size_t i = i0; i < i1; ++i)
        kernels::add(y + rows_with[i] * ldy, delta + i * size_t(N), y + rows_with[i] * ldy, size_t(N));
    };
    const size_t n_rows = s.delta_rows.size();
    if (pool && pool->size() > 1 && n_rows > 1 && big)
      pool->parallel_for(n_rows, [&](int, size_t i0, size_t i1) { merge(i0, i1); });
    else
      merge(0, n_rows);
    placed_.fetch_add(1, std::memory_order_relaxed);
  } else {
    auto rows = [&](size_t r0, size_t r1) {
      for (int n0 = 0; n0 < N; n0 += kColumnBlock)
        for (size_t r = r0; r < r1; ++r)
          if (begin[r + 1] > begin[r])
            shadow_rows<true>(list + begin[r], source + begin[r], begin[r + 1] - begin[r], n0,
                              std::min(N, n0 + kColumnBlock), y + r * ldy);
    };
    // Threads split rows (each output row is written by one thread); small calls stay on this thread.
    if (count > 0 && pool && pool->size() > 1 && T > 1 && big)
      pool->parallel_for(size_t(T), [&](int, size_t r0, size_t r1) { rows(r0, r1); });
    else if (count > 0)
      rows(0, size_t(T));
  }

  fallback_rows_.fetch_add(over.size(), std::memory_order_relaxed);
  outliers_.fetch_add(count, std::memory_order_relaxed);
  hot_hits_.fetch_add(hot, std::memory_order_relaxed);
  cold_hits_.fetch_add(cold, std::memory_order_relaxed);
}

void Int8Linear::forward_dynamic(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                                 ThreadPool* pool) const {
  const int K = in_features();
  int8_t* q = grow(tls_scratch.q, size_t(K));
  for (int t = 0; t < T; ++t) {
    const float scale = quant::quantize_row_dynamic(x + size_t(t) * ldx, K, q);
    float* yrow = y + size_t(t) * ldy;
    Int8Epilogue ep;
    ep.bias = bias_.empty() ? nullptr : bias_.data();
    ep.residual = accumulate ? yrow : nullptr;
    ep.ld_residual = int(ldy);
    ep.out_f32 = yrow;
    ep.ld_out = int(ldy);
    int8_gemv(q, packed_, scale, ep, pool);
    add_weight_outliers(x + size_t(t) * ldx, 1, ldx, yrow, ldy);
  }
}

// --- output head ------------------------------------------------------------------------------------

Int8Head::Int8Head(const float* weight, int in_features, int out_features, ThreadPool* pool,
                   const float* bias)
    : Int8Head(nullptr, in_features, out_features, pool, bias, [&] {
        check(weight && in_features > 0 && out_features > 0, "int8 head: empty shape ", out_features, "x",
              in_features);
        std::vector<uint16_t> h(size_t(in_features) * size_t(out_features));
        for (size_t i = 0; i < h.size(); ++i) h[i] = float_to_half(weight[i]);
        return h;
      }()) {}

Int8Head::Int8Head(const uint16_t* weight, int in_features, int out_features, ThreadPool* pool,
                   const float* bias, std::vector<uint16_t> owned)
    : LinearOp(in_features, out_features), owned_(std::move(owned)), weight_(weight), bias_(bias) {
  check(in_features > 0 && out_features > 0, "int8 head: empty shape ", out_features, "x", in_features);
  if (!owned_.empty()) {
    check(owned_.size() == size_t(in_features) * size_t(out_features),
          "int8 head: owned weights have the wrong size");
    weight_ = owned_.data();
  }
  check(weight_ != nullptr, "int8 head: no weights");
  quantize(pool);
}

void Int8Head::quantize(ThreadPool* pool) {
  const int in_features = this->in_features(), out_features = this->out_features();
  constexpr int kPanel = PackedInt8Matrix::kPanelColumns;
  const size_t K = size_t(in_features);
  const size_t block = size_t(kHeadBlockK4) * 4, blocks = (K + block - 1) / block;
  // Quantized straight into the packed panel layout of int8_gemm.h (data[p][k4][c][j] = W[64p + c][4 k4 + j],
  // zero padded), panels split over threads; only `data` is used by the head kernel.
  PackedInt8Matrix& w = packed_;
  w.n = out_features;
  w.k = in_features;
  w.k4 = int((K + 3) / 4);
  w.panels = (out_features + kPanel - 1) / kPanel;
  w.per_channel = true;
  w.data = AlignedArray<int8_t>(size_t(w.panels) * PackedInt8Matrix::kPanelBytesPerK4 * size_t(w.k4));
  // Scale per output row and block of 32 inputs: the row's largest block scale in fp32 (row_scales_) times
  // an F16 fraction per block, laid out [panel][block][64 columns] for the kernel. Each block is quantized
  // with the scale it will be multiplied by (after the F16 rounding).
  block_scales_ = AlignedArray<uint16_t>(size_t(w.panels) * blocks * kPanel);
  row_scales_ = AlignedArray<float>(size_t(w.panels) * kPanel);
  std::vector<uint8_t> finite(size_t(w.panels), 1);
  auto pack_panels = [&](size_t p0, size_t p1) {
    std::vector<float> scale(blocks), row_buffer(K);
    for (size_t p = p0; p < p1; ++p) {
      const int width = w.panel_width(int(p));
      int8_t* panel = w.data.data() + p * PackedInt8Matrix::kPanelBytesPerK4 * size_t(w.k4);
      std::memset(panel, 0, size_t(width) * 4 * size_t(w.k4));
      std::fill(block_scales_.data() + p * blocks * kPanel, block_scales_.data() + (p + 1) * blocks * kPanel,
                uint16_t(0));
      std::fill(row_scales_.data() + p * kPanel, row_scales_.data() + (p + 1) * kPanel, 0.0f);
      for (int c = 0; c < width; ++c) {
        const size_t n = p * kPanel + size_t(c);
        if (n >= size_t(out_features)) break;
        this->row(int(n), row_buffer.data());
        const float* row = row_buffer.data();
        float largest = 0;
        for (size_t b = 0; b < blocks; ++b) {
          float m = 0;
          for (size_t k = b * block; k < std::min(K, (b + 1) * block); ++k)
            m = std::max(m, std::fabs(row[k]));
          scale[b] = m / 127.0f;
          largest = std::max(largest, scale[b]);
        }
        if (!std::isfinite(largest)) finite[p] = 0;  // NaN is skipped by max: checked again below
        const float row_scale = largest > 0 && std::isfinite(largest) ? largest : 1.0f;
        row_scales_[n] = row_scale;
        for (size_t b = 0; b < blocks; ++b) {
          // Rounded up where F16 rounds down (the block's largest weight then stays within 127 steps).
          uint16_t fraction = float_to_half(scale[b] / row_scale);
          if (row_scale * half_to_float(fraction) < scale[b]) ++fraction;
          block_scales_[(p * blocks + b) * kPanel + size_t(c)] = fraction;
          const float used = row_scale * half_to_float(fraction);
          // An all-zero block, or one too small for F16 or for 1 / used: its weights quantize to 0.
          const float inv = used > 0 && std::isfinite(1.0f / used) ? 1.0f / used : 0.0f;
          for (size_t k = b * block; k < std::min(K, (b + 1) * block); ++k) {
            if (!std::isfinite(row[k])) {  // left 0, reported after the loop
              finite[p] = 0;
              continue;
            }
            panel[((k / 4) * size_t(width) + size_t(c)) * 4 + k % 4] =
                int8_t(std::clamp(std::nearbyint(row[k] * inv), -127.0f, 127.0f));
          }
        }
      }
    }
  };
  if (pool && pool->size() > 1)
    pool->parallel_for(size_t(w.panels), [&](int, size_t p0, size_t p1) { pack_panels(p0, p1); });
  else
    pack_panels(0, size_t(w.panels));
  for (uint8_t ok : finite) check(ok != 0, "int8 head: the output weights are not finite");
}

void Int8Head::row(int n, float* out) const {
  check(n >= 0 && n < out_features(), "int8 head: row ", n, " outside 0..", out_features() - 1);
  const size_t K = size_t(in_features());
  halves_to_floats(weight_ + size_t(n) * K, out, K);
}

void Int8Head::forward_f16(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                           ThreadPool* pool) const {
  constexpr int kRows = 64;  // rows converted at a time: 64 x K floats stay in L2
  const int K = in_features(), N = out_features();
  const size_t blocks = size_t((N + kRows - 1) / kRows);
  auto run = [&](size_t b0, size_t b1) {
    std::vector<float>& w = tls_scratch.head_panel;
    if (w.size() < size_t(kRows) * size_t(K)) w.resize(size_t(kRows) * size_t(K));
    for (size_t b = b0; b < b1; ++b) {
      const int n0 = int(b) * kRows, rows = std::min(N, n0 + kRows) - n0;
      const uint16_t* src = weight_ + size_t(n0) * size_t(K);
      halves_to_floats(src, w.data(), size_t(rows) * size_t(K));
      kernels::float_gemm(x, T, ldx, w.data(), rows, K, y + n0, ldy, bias_ ? bias_ + n0 : nullptr, accumulate,
                          nullptr);
    }
  };
  if (pool && pool->size() > 1 && blocks > 1)
    pool->parallel_for(blocks, [&](int, size_t b0, size_t b1) { run(b0, b1); });
  else
    run(0, blocks);
}

std::string Int8Head::describe() const {
  return str("int8 head (weight and activation scales per block of 32 inputs) for up to ", int8_rows_,
             " rows, fp32 on the F16 weights beyond");
}

namespace {

enum class HeadKernel { None, Avx512, Dotprod };

HeadKernel head_kernel() {
#if defined(__x86_64__)
  static const HeadKernel kernel =
      cpu_features().has_avx512_vnni_path() ? HeadKernel::Avx512 : HeadKernel::None;
#elif defined(__aarch64__)
  static const HeadKernel kernel = cpu_features().dotprod ? HeadKernel::Dotprod : HeadKernel::None;
#else
  constexpr HeadKernel kernel = HeadKernel::None;
#endif
  return kernel;
}

}  // namespace

bool Int8Head::has_int8_kernel() { return head_kernel() != HeadKernel::None; }

const int8_t* Int8Head::quantize_input(const float* row, float* block_scales) const {
  // Per block of 32 inputs: scale = max|x| / 127, q = round(x / scale); K padded with zeros to whole
  // groups of 4 and 16 more bytes (vector loads).
  const int K = in_features(), k4 = packed_.k4, blocks = (k4 + kHeadBlockK4 - 1) / kHeadBlockK4;
  std::vector<int8_t>& q = tls_scratch.head_q;
  q.assign(size_t(k4) * 4 + 16, 0);
  for (int b = 0; b < blocks; ++b) {
    const int k0 = b * kHeadBlockK4 * 4, k1 = std::min(K, k0 + kHeadBlockK4 * 4);
    float m = 0;
    for (int k = k0; k < k1; ++k) m = std::max(m, std::fabs(row[k]));
    const float scale = m > 0 ? m / 127.0f : 1.0f, inv = 1.0f / scale;
    block_scales[b] = scale;
    for (int k = k0; k < k1; ++k) {
      const float v = std::clamp(std::nearbyint(row[k] * inv), -127.0f, 127.0f);
      q[size_t(k)] = v == v ? int8_t(v) : int8_t(0);  // NaN (or inf / inf) contributes nothing
    }
  }
  return q.data();
}

void Int8Head::forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                       ThreadPool* pool) const {
  if (T <= 0) return;
  const HeadKernel kernel = head_kernel();
  if (T > int8_rows_ || kernel == HeadKernel::None) return forward_f16(x, T, ldx, y, ldy, accumulate, pool);
  Scratch& s = tls_scratch;
  const int N = out_features(), k4 = packed_.k4, blocks = (k4 + kHeadBlockK4 - 1) / kHeadBlockK4;
  float* scales = grow(s.row_scales, size_t(blocks));
  for (int t = 0; t < T; ++t) {
    float* yrow = y + size_t(t) * ldy;
    const float* residual = accumulate ? yrow : nullptr;
    const int8_t* q = quantize_input(x + size_t(t) * ldx, scales);
#if defined(__x86_64__)
    if (s.biased.size() < size_t(k4) * 4) s.biased = AlignedArray<uint8_t>(size_t(k4) * 4);
    uint8_t* mag = s.biased.data();
    uint64_t* signs = grow(s.sign_masks, size_t(k4));
    int8_linear_detail::head_operand_avx512(q, k4, mag, signs);
#endif
    auto run = [&](int p0, int p1) {
#if defined(__x86_64__)
      int8_linear_detail::head_gemv_panels_avx512(mag, signs, scales, packed_, block_scales_.data(),
                                                  row_scales_.data(), residual, yrow, p0, p1);
#elif defined(__aarch64__)
      int8_linear_detail::head_gemv_panels_dotprod(q, scales, packed_, block_scales_.data(),
                                                   row_scales_.data(), residual, yrow, p0, p1);
#endif
    };
    if (pool && pool->size() > 1 && packed_.panels > 1)
      share_panels(pool, packed_, run);
    else
      run(0, packed_.panels);
    if (bias_)
      for (int n = 0; n < N; ++n) yrow[n] += bias_[n];
  }
}

void Int8Head::forward_int8_reference(const float* x, float* y) const {
  const int blocks = (packed_.k4 + kHeadBlockK4 - 1) / kHeadBlockK4;
  std::vector<float> scales(static_cast<size_t>(blocks));
  const int8_t* q = quantize_input(x, scales.data());
  int8_linear_detail::head_gemv_panels_scalar(q, scales.data(), packed_, block_scales_.data(),
                                              row_scales_.data(), nullptr, y, 0, packed_.panels);
  if (bias_)
    for (int n = 0; n < out_features(); ++n) y[n] += bias_[n];
}

namespace int8_linear_detail {

void head_gemv_panels_scalar(const int8_t* q, const float* block_scales, const PackedInt8Matrix& w,
                             const uint16_t* weight_block_scales, const float* row_scales,
                             const float* residual, float* out, int p0, int p1) {
  const int blocks = (w.k4 + kHeadBlockK4 - 1) / kHeadBlockK4, half = blocks / 2;
  for (int p = p0; p < p1; ++p) {
    const int width = w.panel_width(p);
    const int8_t* panel = w.panel(p);
    for (int c = 0; c < width; ++c) {
      const int n = p * PackedInt8Matrix::kPanelColumns + c;
      if (n >= w.n) break;
      float sum[2] = {0.0f, 0.0f};
      for (int b = 0; b < blocks; ++b) {
        int32_t dot = 0;
        for (int g = b * kHeadBlockK4; g < std::min(w.k4, (b + 1) * kHeadBlockK4); ++g)
          for (int j = 0; j < 4; ++j)
            dot += int32_t(q[g * 4 + j]) * panel[(size_t(g) * size_t(width) + size_t(c)) * 4 + size_t(j)];
        const float ws =
            half_to_float(weight_block_scales[(size_t(p) * size_t(blocks) + size_t(b)) * 64 + size_t(c)]);
        float& into = sum[b < half ? 0 : 1];
        into = std::fma(float(dot), block_scales[b] * ws, into);
      }
      const float o = (sum[0] + sum[1]) * row_scales[n];
      out[n] = residual ? o + residual[n] : o;
    }
  }
}

}  // namespace int8_linear_detail

}  // namespace llmnpu
