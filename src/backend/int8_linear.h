#pragma once
// The accelerator role's linear layer (W8A8 + shadow outliers), run by the int8 kernels on CPU cores
// (AMX / AVX-512 VNNI where available) in place of an NPU.
//   prefill (T > 1): x is quantized with the static calibrated scale; elements beyond +-127 steps are
//     pulled into a compact outlier list; int8 GEMM with a fused epilogue (dequantize, bias, residual);
//     then the float shadow pass adds, row by row, each outlier's missing part times its weight column
//     (a row of W^T in F16: the resident hot row, a warm row read from the mapped file, or for a cold
//     channel the int8 column times its weight scales, decoded once per call), before returning: y = (gemm +
//     residual) + d, d the row's entries summed from zero. The shadow pass runs inline, or (forward_placed)
//     on the host role beside the GEMM and is merged after it, with the same floats. A pruned linear skips
//     the shadow path: its outliers are clipped.
//   decode (T == 1): the host runs it; by default the same static quantization with the shadow path on
//     every linear, pruned or not (no accelerator sync to save), or optionally a dynamic per-row scale.
// Scratch memory (quantized rows, outlier lists) is per calling thread and reused across calls: two
// processors may run different linears at the same time, never the same linear twice at once.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "graph/linear.h"
#include "kernels/int8_gemm.h"

namespace llmnpu {

enum class DecodeQuant { StaticShadow, DynamicRow };

struct Int8LinearSpec {
  int in = 0, out = 0;
  const int8_t* weight = nullptr;         // [out][in], packed (copied) at construction; or
  const int8_t* packed_weight = nullptr;  // the panel layout of int8_gemm.h, used in place (not copied)
  size_t packed_bytes = 0;
  const float* weight_scales = nullptr;
  bool per_channel = true;
  const float* bias = nullptr;  // [out] or null
  float act_scale = 1;
  bool shadow = true;
  std::vector<int32_t> hot_channels;    // increasing, each < in
  const uint16_t* hot_rows = nullptr;   // F16 [hot][out]; copied (resident)
  std::vector<int32_t> warm_channels;   // increasing, none hot, each < in
  const uint16_t* warm_rows = nullptr;  // F16 [warm][out]; used in place (a mapped file: read on demand)
  // Weight outliers: sparse float weights kept out of the int8 matrix (their int8 value is 0), added on
  // the host as y[t][n] += x[t][k] * value; index = n * in + k, increasing. Copied (resident).
  const int32_t* weight_outlier_index = nullptr;
  const float* weight_outlier_value = nullptr;
  size_t weight_outliers = 0;
};

class Int8Linear final : public LinearOp {
 public:
  explicit Int8Linear(const Int8LinearSpec& spec);  // throws Error on inconsistent input

  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  // silu(gate) * up folded into the activation quantizer (kernels::silu_mul_quantize_with_outliers: the
  // same codes and outlier entries as the two-step path, without writing h), unless weight outliers or the
  // dynamic decode scale need h itself; gate_up is not modified then.
  void forward_swiglu(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                      ThreadPool* pool) const override;
  // Prefill with the shadow pass posted to where.sink (the host role) while the int8 GEMM runs, then
  // merged: y = (gemm + residual) + shadow, the same floats as the inline placement. Calls whose shadow
  // work is too small to be worth a hand-off (ShadowSink::min_work) stay inline.
  void forward_placed(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                      ThreadPool* pool, const ShadowPlacement& where) const override;
  void forward_swiglu_placed(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                             ThreadPool* pool, const ShadowPlacement& where) const override;
  bool has_shadow() const override { return shadow_; }
  std::string describe() const override;
  size_t weight_bytes() const override { return int8_weight_bytes() + resident_shadow_bytes(); }

  size_t int8_weight_bytes() const { return size_t(in_features()) * size_t(out_features()); }
  // Hot rows plus the weight outliers (index + value each), both resident on the host.
  size_t resident_shadow_bytes() const {
    return hot_rows_.size() * sizeof(uint16_t) + weight_outlier_bytes();
  }
  size_t weight_outlier_bytes() const {
    return outlier_value_.size() * (sizeof(float) + 2 * sizeof(int32_t));
  }
  size_t weight_outlier_count() const { return outlier_value_.size(); }
  float act_scale() const { return act_scale_; }
  bool per_channel_weights() const { return per_channel_; }
  size_t hot_count() const { return hot_channels_.size(); }
  size_t warm_count() const { return warm_count_; }
  const PackedInt8Matrix& packed() const { return packed_; }
  const std::vector<int32_t>& hot_channels() const { return hot_channels_; }

  // The shadow budget: a row with more outlier entries than this (default max(16, in / 32)) is quantized
  // with its own dynamic activation scale instead of taking a shadow pass, so the float work per row is
  // bounded by budget x out multiply-adds whatever the input. 0 restores the default.
  static int default_row_entry_budget(int in) { return std::max(16, in / 32); }
  void set_row_entry_budget(int entries) { row_entry_budget_ = entries; }
  int row_entry_budget() const {
    return row_entry_budget_ > 0 ? row_entry_budget_ : default_row_entry_budget(in_features());
  }

  // Ablation and pruning switches (not thread-safe against a running forward).
  void set_shadow(bool on) { shadow_ = on; }
  bool shadow() const { return shadow_; }
  void set_decode_quant(DecodeQuant d) { decode_ = d; }
  // Makes every channel hot: each channel's row as a call would find it (hot, warm, or decoded from the
  // int8 weights) becomes a resident F16 row.
  void make_all_resident();
  // Drops every hot row: all shadow rows are decoded from the int8 weights (tests compare the two paths).
  void make_all_cold();

  struct Counters {
    uint64_t calls = 0, outliers = 0, hot_rows = 0, cold_rows = 0;
    uint64_t placed_calls = 0;   // prefill calls whose shadow pass was posted to the host role
    uint64_t fallback_rows = 0;  // rows beyond the shadow budget, quantized with their own scale
  };
  Counters counters() const;

 private:
  // up: null for a plain input; else x is the gate and the input is silu(x) * up (same row stride).
  // where: null or without a sink = the shadow pass inline.
  void forward_static(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                      ThreadPool* pool, const float* up = nullptr,
                      const ShadowPlacement* where = nullptr) const;
  void forward_swiglu_impl(float* gate_up, int T, size_t ld, float* y, size_t ldy, bool accumulate,
                           ThreadPool* pool, const ShadowPlacement* where) const;
  void forward_dynamic(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                       ThreadPool* pool) const;
  void set_hot(std::vector<int32_t> channels, const uint16_t* rows);
  void add_weight_outliers(const float* x, int T, size_t ldx, float* y, size_t ldy) const;

  PackedInt8Matrix packed_;
  std::vector<float> bias_;
  float act_scale_;
  bool per_channel_ = true;  // one weight scale per output row (else one per tensor)
  bool shadow_;
  DecodeQuant decode_ = DecodeQuant::StaticShadow;
  std::vector<int32_t> hot_channels_;
  std::vector<int32_t> hot_index_;  // [in]: position in hot_channels_, or -1
  std::vector<uint16_t> hot_rows_;
  std::vector<int32_t> warm_index_;  // [in]: row in warm_rows_, or -1
  const uint16_t* warm_rows_ = nullptr;
  size_t warm_count_ = 0;
  std::vector<int32_t> outlier_row_, outlier_col_;  // output n, input k of each weight outlier
  std::vector<float> outlier_value_;
  int row_entry_budget_ = 0;  // 0: default_row_entry_budget(in)
  mutable std::atomic<uint64_t> calls_{0}, outliers_{0}, hot_hits_{0}, cold_hits_{0}, placed_{0},
      fallback_rows_{0};
};

// The output head of a prepared model, Q8_0-like: int8 weights with one scale per output row and block of
// 32 inputs (an F16 fraction of a per-row fp32 scale, as Q8_0 keeps F16 scales), quantized at load from
// the F16 head a prepared file stores, and dynamic activation scales per block of 32 (the head input keeps
// the massive-activation channels, and embeddings tied to the head carry them too: one scale per row,
// for either side, measured mean KL 0.19 against fp32 on the planted-outlier model). The int8 weights
// (+ 1/16 in scales) are about 27% of the fp32 head's bytes: what a decode step streams. forward with
// T <= int8_rows() runs int8 (decode and the last-position logits of prefill); larger T (every
// position's logits: perplexity, eval) and CPUs without the int8 head kernel run fp32 GEMMs on the F16
// weights converted 64 rows at a time, so those measure the W8A8 layers. The F16 rows are also the
// embedding rows of a model whose embeddings are tied to the head (row()).
class Int8Head final : public LinearOp {
 public:
  // weight: F16 [out][in], used in place (a mapped file's tensor; owned: the storage, when the head owns
  // it). pool: null = quantize on this thread. bias: [out] or null (Phi-2's head), added in fp32 on
  // either path; kept, not copied.
  Int8Head(const uint16_t* weight, int in_features, int out_features, ThreadPool* pool = nullptr,
           const float* bias = nullptr, std::vector<uint16_t> owned = {});
  // From fp32 weights: an F16 copy is made and owned (the head then computes what a prepared file's does).
  Int8Head(const float* weight, int in_features, int out_features, ThreadPool* pool = nullptr,
           const float* bias = nullptr);

  // Row n of the F16 weights in fp32 (an embedding row when the embeddings are tied to the head).
  void row(int n, float* out) const;
  const uint16_t* f16_weights() const { return weight_; }

  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override;
  std::string describe() const override;
  size_t weight_bytes() const override {
    return packed_.data.size() + block_scales_.size() * sizeof(uint16_t) + row_scales_.size() * sizeof(float);
  }

  int int8_rows() const { return int8_rows_; }
  void set_int8_rows(int rows) { int8_rows_ = rows; }
  // Whether this CPU has an int8 head kernel (AVX-512 VNNI, SDOT); without one every row runs fp32.
  static bool has_int8_kernel();
  // One row through the portable int8 kernel (what the SIMD kernels are tested against): y = x W^T + bias.
  void forward_int8_reference(const float* x, float* y) const;

 private:
  void quantize(ThreadPool* pool);
  // x quantized per block of 32 inputs (block_scales: one per block); thread-local storage.
  const int8_t* quantize_input(const float* x, float* block_scales) const;
  void forward_f16(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
                   ThreadPool* pool) const;

  std::vector<uint16_t> owned_;
  const uint16_t* weight_;
  const float* bias_;
  PackedInt8Matrix packed_;              // int8 weights in the panel layout (column sums, scales unused)
  AlignedArray<uint16_t> block_scales_;  // F16 fraction of the row scale: [panel][block of 32 inputs][64]
  AlignedArray<float> row_scales_;       // [panel][64]: each row's largest block scale
  int int8_rows_ = 1;
};

}  // namespace llmnpu
