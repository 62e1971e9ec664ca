#include "backend/int8_linear.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/quantize_outliers.h"
#include "kernels/sparse_gemm.h"
#include "quant/activation_quant.h"

namespace llmnpu {

Int8Linear::Int8Linear(const Int8LinearSpec& s)
    : LinearOp(s.in, s.out), act_scale_(s.act_scale), shadow_(s.shadow), weight_t_(s.weight_t) {
  check(s.in > 0 && s.out > 0, "int8 linear: empty shape ", s.out, "x", s.in);
  check(s.weight && s.weight_scales, "int8 linear: missing weights or weight scales");
  check(std::isfinite(s.act_scale) && s.act_scale > 0, "int8 linear: activation scale ", s.act_scale,
        " is not a positive number");
  const size_t nscales = s.per_channel ? size_t(s.out) : 1;
  for (size_t i = 0; i < nscales; ++i)
    check(std::isfinite(s.weight_scales[i]) && s.weight_scales[i] > 0, "int8 linear: weight scale ", i,
          " is not a positive number");
  for (size_t i = 0; i < size_t(s.in) * size_t(s.out); ++i)
    check(s.weight[i] != -128, "int8 linear: weight value -128 (the symmetric range is -127..127)");
  packed_ = pack_int8_weights(s.weight, s.out, s.in, s.weight_scales, s.per_channel);
  if (s.bias) bias_.assign(s.bias, s.bias + s.out);
  check(s.hot_channels.empty() || s.hot_rows, "int8 linear: hot channels without hot rows");
  set_hot(s.hot_channels, s.hot_rows);
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
  check(weight_t_ != nullptr, "int8 linear: no W^T to make resident");
  std::vector<int32_t> all(static_cast<size_t>(in_features()));
  for (size_t k = 0; k < all.size(); ++k) all[k] = int32_t(k);
  set_hot(std::move(all), weight_t_);
}

void Int8Linear::make_all_cold() { set_hot({}, nullptr); }

Int8Linear::Counters Int8Linear::counters() const {
  return {calls_.load(), outliers_.load(), hot_hits_.load(), cold_hits_.load()};
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
  // Decode runs on the host, where a shadow path costs no accelerator synchronisation: always on.
  const bool shadow = shadow_ || T == 1;
  forward_static(x, T, ldx, y, ldy, accumulate, shadow && weight_t_ != nullptr, pool);
}

void Int8Linear::forward_static(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                                bool shadow, ThreadPool* pool) const {
  const int K = in_features(), N = out_features();
  std::vector<int8_t> q(size_t(T) * size_t(K));
  std::vector<kernels::OutlierEntry> outliers;
  if (shadow)
    quantize_with_outliers(x, T, K, int(ldx), act_scale_, q.data(), K, &outliers);
  else
    quant::quantize_static(x, T, ldx, K, act_scale_, q.data(), size_t(K), nullptr);  // clip only

  Int8Epilogue ep;
  ep.bias = bias_.empty() ? nullptr : bias_.data();
  ep.residual = accumulate ? y : nullptr;
  ep.ld_residual = int(ldy);
  ep.out_f32 = y;
  ep.ld_out = int(ldy);
  int8_gemm(q.data(), T, K, packed_, act_scale_, ep, pool);
  if (outliers.empty()) return;

  // One float row per distinct outlier channel: from the resident hot rows or the mapped W^T.
  std::vector<int32_t> slot(size_t(K), -1);
  std::vector<int32_t> channels;
  for (const auto& e : outliers)
    if (slot[size_t(e.channel)] < 0) {
      slot[size_t(e.channel)] = int32_t(channels.size());
      channels.push_back(e.channel);
    }
  std::vector<float> rows(channels.size() * size_t(N));
  uint64_t hot = 0;
  for (size_t i = 0; i < channels.size(); ++i) {
    const int32_t k = channels[i];
    const int32_t h = hot_index_[size_t(k)];
    const uint16_t* src =
        h >= 0 ? hot_rows_.data() + size_t(h) * size_t(N) : weight_t_ + size_t(k) * size_t(N);
    hot += h >= 0 ? 1 : 0;
    float* dst = rows.data() + i * size_t(N);
    for (size_t n = 0; n < size_t(N); ++n) dst[n] = half_to_float(src[n]);
  }
  std::vector<const float*> row_of(outliers.size());
  for (size_t i = 0; i < outliers.size(); ++i)
    row_of[i] = rows.data() + size_t(slot[size_t(outliers[i].channel)]) * size_t(N);
  kernels::sparse_outlier_gemm(outliers.data(), outliers.size(), row_of.data(), N, y, ldy, pool);
  outliers_.fetch_add(outliers.size(), std::memory_order_relaxed);
  hot_hits_.fetch_add(hot, std::memory_order_relaxed);
  cold_hits_.fetch_add(channels.size() - hot, std::memory_order_relaxed);
}

void Int8Linear::forward_dynamic(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                                 ThreadPool* pool) const {
  const int K = in_features();
  std::vector<int8_t> q(static_cast<size_t>(K));
  for (int t = 0; t < T; ++t) {
    const float scale = quant::quantize_row_dynamic(x + size_t(t) * ldx, K, q.data());
    float* yrow = y + size_t(t) * ldy;
    Int8Epilogue ep;
    ep.bias = bias_.empty() ? nullptr : bias_.data();
    ep.residual = accumulate ? yrow : nullptr;
    ep.ld_residual = int(ldy);
    ep.out_f32 = yrow;
    ep.ld_out = int(ldy);
    int8_gemm(q.data(), 1, K, packed_, scale, ep, pool);
  }
}

}  // namespace llmnpu
