#pragma once
// A prepared W8A8 model in memory: for each fused linear (qkv, o, gate_up, down of every layer) its
// int8 weights (already in the kernels' packed layout), static activation scale, shadow-path data (the
// hot channels' F16 rows; cold channels' rows are derived from the int8 weights when needed) and
// calibration summary. backend/prepared_writer.h writes it as one prepared GGUF (docs/prepared-format.md).
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/int8_gemm.h"
#include "model/model.h"
#include "quant/activation_stats.h"
#include "quant/resident_budget.h"
#include "quant/scale_policy.h"
#include "quant/weight_quant.h"

namespace llmnpu::quant {

// 2: int8 weights stored packed (mapped at load), int8 head, no F16 W^T (cold rows from the int8 weights).
constexpr int kPreparedVersion = 2;

enum class LinearSlot { Qkv = 0, O = 1, GateUp = 2, Down = 3 };
constexpr int kSlotsPerLayer = 4;
const char* slot_name(LinearSlot s);               // "qkv", "o", "gate_up", "down"
std::string linear_name(int layer, LinearSlot s);  // "blk.3.gate_up"
// The {in, out} features of a fused slot in a model of this config.
std::pair<int, int> slot_shape(const ModelConfig& c, LinearSlot s);

struct PreparedLinear {
  int layer = 0;
  LinearSlot slot = LinearSlot::Qkv;
  QuantizedWeights weights;            // scales and weight outliers (q is released once packed)
  PackedInt8Matrix packed;             // the int8 weights in the layout of int8_gemm.h
  std::vector<float> bias;             // [out] or empty
  float act_scale = 1;                 // static per-tensor activation scale
  bool shadow = true;                  // false: pruned, outliers are clipped in prefill
  std::vector<int32_t> hot_channels;   // increasing
  std::vector<uint16_t> hot_rows;      // F16 [hot][out]: W[:, k] of each hot channel, without the
                                       // weight outliers (weights.outlier_*: they see the float x)
  std::vector<int32_t> warm_channels;  // increasing, none hot: F16 rows kept in the file, not resident
  std::vector<uint16_t> warm_rows;     // F16 [warm][out], as hot_rows
  // Calibration summary.
  float act_max = 0, p99 = 0, p999 = 0, p9999 = 0;
  int outlier_channels = 0;                // channels with at least one calibration outlier
  std::vector<uint64_t> channel_outliers;  // [in]: calibration outliers per input channel
  uint64_t outliers = 0;                   // calibration elements beyond the clip
  double hot_coverage = 1;                 // share of those in hot channels
  double importance = 0;                   // act_max / act_scale: the largest outlier in int8 steps

  int in() const { return weights.in; }
  int out() const { return weights.out; }
  std::string name() const { return linear_name(layer, slot); }
  // Resident host bytes: hot rows and weight outliers (as Int8Linear keeps them: row, column, value).
  size_t hot_bytes() const {
    return hot_rows.size() * sizeof(uint16_t) + weights.outlier_value.size() * 3 * sizeof(float);
  }
  size_t int8_bytes() const { return size_t(in()) * size_t(out()); }
  size_t warm_bytes() const { return warm_rows.size() * sizeof(uint16_t); }
};

// The fused float weights [out][in] of one slot of a layer (qkv: Wq|Wk|Wv rows; gate_up: Wg|Wu), and
// the fused bias (empty when the model has none), into w (its capacity is reused across calls).
void fused_weights(const Model& model, int layer, LinearSlot slot, std::vector<float>& w,
                   std::vector<float>* bias);

struct LinearPrepareOptions {
  bool per_channel_weights = true;
  double weight_outlier_share = 0.01;  // of each row's weights, kept as sparse float (weight_quant.h)
  double hot_share = 0.8;
};

// What one linear asks of the resident budget before it is quantized: its share-selected hot channels
// (from the calibration outlier counts of stats) and the bytes of its weight outliers.
HotChannelRequest hot_channel_request(const ActivationStats& stats, int out,
                                      const LinearPrepareOptions& options);

// The warm channels a linear asks for: every channel with a calibration outlier that is not hot (a row
// of F16 each, kept in the file and read from the map when an outlier hits it). Channels that never
// overflowed in calibration stay cold: their rows are derived from the int8 weights.
HotChannelRequest warm_channel_request(const ActivationStats& stats, int out,
                                       const std::vector<int32_t>& hot);

// Quantizes one fused linear with a chosen scale; stats must hold both calibration passes (outlier
// counts for choice.clip). hot_channels (increasing): the channels whose F16 rows stay resident, as the
// resident budget kept them (fit_hot_channels over every linear's hot_channel_request); warm_channels
// (increasing, none hot): the channels whose F16 rows the file keeps, as the warm budget kept them.
PreparedLinear prepare_linear(int layer, LinearSlot slot, const float* w, int out, int in,
                              std::vector<float> bias, const ActivationStats& stats,
                              const ScaleChoice& choice, const LinearPrepareOptions& options,
                              std::vector<int32_t> hot_channels, std::vector<int32_t> warm_channels = {});

// Turns the shadow path off for round(fraction * n) linears of least importance (on for the others).
// Returns how many were pruned.
int apply_pruning(std::vector<PreparedLinear>& linears, double fraction);

}  // namespace llmnpu::quant
