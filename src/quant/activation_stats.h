#pragma once
// Statistics of one linear layer's input activations, gathered during calibration: per-tensor max and
// a fine histogram of |x| (for percentiles), per-channel max, and (second pass, once a clip value is
// chosen) per-channel counts of the elements beyond the clip: the outliers the shadow path will see.
// The first pass also keeps the largest elements (about the top 1-2%, with their channels): a clip above
// every element it dropped gets its counts from them, exactly and without a second pass.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmnpu::quant {

class ActivationStats {
 public:
  // The histogram bins |x| by its float bit pattern >> 17: 64 bins per octave (the 6 leading mantissa
  // bits) over every exponent, so percentiles are within 1.1% of the exact value.
  static constexpr int kBinsPerOctave = 64;
  static constexpr size_t kBins = size_t(256) * kBinsPerOctave;

  explicit ActivationStats(int channels = 0);

  int channels() const { return int(channel_max_.size()); }
  uint64_t elements() const { return elements_; }
  uint64_t rows() const { return rows_; }
  float max() const { return max_; }
  const std::vector<float>& channel_max() const { return channel_max_; }

  // p in [0, 100]: the smallest bin upper edge below or at which p% of the |x| values lie.
  float percentile(double p) const;

  // First pass: every element of X[T][ldx] (channels() used).
  void record(const float* x, int T, size_t ldx);

  // The counts for a clip from the kept tail, when every dropped element is <= clip: returns whether it
  // could (if not, nothing changes: use a second pass).
  bool count_outliers_from_tail(float clip);
  // Second pass: count, per channel, the elements with |x| > clip. record_outliers is a no-op while the
  // counts come from the tail.
  void set_outlier_clip(float clip);
  void record_outliers(const float* x, int T, size_t ldx);
  bool outliers_from_tail() const { return counted_from_tail_; }
  float outlier_clip() const { return clip_; }
  const std::vector<uint64_t>& channel_outliers() const { return channel_outliers_; }
  uint64_t total_outliers() const;

 private:
  std::vector<float> channel_max_;
  std::vector<uint64_t> histogram_;
  uint64_t elements_ = 0, rows_ = 0;
  float max_ = 0;
  float clip_ = 0;
  std::vector<uint64_t> channel_outliers_;
  bool counted_from_tail_ = false;
  // The kept tail: (|x| bits << 32 | channel), and the bits of the largest element dropped from it.
  std::vector<uint64_t> tail_;
  uint32_t tail_dropped_bits_ = 0;
  void trim_tail();
};

}  // namespace llmnpu::quant
