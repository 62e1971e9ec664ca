#include "quant/activation_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>

#include "core/error.h"

namespace llmnpu::quant {

static uint32_t abs_bits(float v) { return std::bit_cast<uint32_t>(v) & 0x7fffffffu; }

ActivationStats::ActivationStats(int channels)
    : channel_max_(size_t(std::max(channels, 0)), 0.0f), histogram_(kBins, 0) {}

namespace {
// The tail kept: 1% of the elements seen (trimmed when it reaches twice that), at least this many.
constexpr double kTailShare = 0.01;
constexpr size_t kTailFloor = 4096;
}  // namespace

void ActivationStats::record(const float* x, int T, size_t ldx) {
  const size_t K = channel_max_.size();
  for (int t = 0; t < T; ++t) {
    const float* row = x + size_t(t) * ldx;
    for (size_t k = 0; k < K; ++k) {
      uint32_t bits = abs_bits(row[k]);
      check(bits < 0x7f800000u, "calibration: non-finite activation (", row[k], ") in channel ", k);
      ++histogram_[bits >> 17];
      float a = std::bit_cast<float>(bits);
      if (a > channel_max_[k]) channel_max_[k] = a;
      if (bits > tail_dropped_bits_) tail_.push_back(uint64_t(bits) << 32 | k);
    }
    ++rows_;
    elements_ += K;
    trim_tail();
  }
  for (float m : channel_max_) max_ = std::max(max_, m);
}

void ActivationStats::trim_tail() {
  const size_t keep = std::max(kTailFloor, size_t(kTailShare * double(elements_)));
  if (tail_.size() <= 2 * keep) return;
  // The keep largest stay; the rest (all <= the element at `keep`) are dropped, and so is anything
  // tied with the largest dropped one, so that the kept tail is exactly the elements above a bound.
  std::nth_element(tail_.begin(), tail_.begin() + long(keep), tail_.end(), std::greater<>());
  tail_dropped_bits_ = std::max(tail_dropped_bits_, uint32_t(tail_[keep] >> 32));
  tail_.resize(keep);
  std::erase_if(tail_, [&](uint64_t e) { return uint32_t(e >> 32) <= tail_dropped_bits_; });
}

bool ActivationStats::count_outliers_from_tail(float clip) {
  const uint32_t clip_bits = abs_bits(clip);
  if (!(clip >= 0) || clip_bits < tail_dropped_bits_) return false;
  clip_ = clip;
  channel_outliers_.assign(channel_max_.size(), 0);
  for (uint64_t e : tail_)
    if (uint32_t(e >> 32) > clip_bits) ++channel_outliers_[size_t(e & 0xffffffffu)];
  counted_from_tail_ = true;
  return true;
}

float ActivationStats::percentile(double p) const {
  if (elements_ == 0) return 0;
  double target = std::clamp(p, 0.0, 100.0) / 100.0 * double(elements_);
  uint64_t need = uint64_t(std::ceil(target));
  if (need == 0) need = 1;
  uint64_t seen = 0;
  for (size_t b = 0; b < kBins; ++b) {
    seen += histogram_[b];
    if (seen >= need) {
      // Upper edge of the bin, never above the true max.
      float edge = std::bit_cast<float>(uint32_t((b + 1) << 17));
      return std::min(edge, max_);
    }
  }
  return max_;
}

void ActivationStats::set_outlier_clip(float clip) {
  clip_ = clip;
  channel_outliers_.assign(channel_max_.size(), 0);
  counted_from_tail_ = false;
}

void ActivationStats::record_outliers(const float* x, int T, size_t ldx) {
  if (counted_from_tail_) return;
  const size_t K = channel_max_.size();
  if (channel_outliers_.size() != K) channel_outliers_.assign(K, 0);
  for (int t = 0; t < T; ++t) {
    const float* row = x + size_t(t) * ldx;
    for (size_t k = 0; k < K; ++k) channel_outliers_[k] += std::fabs(row[k]) > clip_ ? 1 : 0;
  }
}

uint64_t ActivationStats::total_outliers() const {
  uint64_t n = 0;
  for (uint64_t c : channel_outliers_) n += c;
  return n;
}

}  // namespace llmnpu::quant
