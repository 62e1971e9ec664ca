#pragma once
// A prepared W8A8 model in memory: for each fused linear (qkv, o, gate_up, down of every layer) its
// int8 weights, static activation scale, shadow-path data (hot channel rows, all rows as F16 W^T) and
// calibration summary; and the writer of the one-file prepared GGUF (docs/prepared-format.md).
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"
#include "quant/activation_stats.h"
#include "quant/resident_budget.h"
#include "quant/scale_policy.h"
#include "quant/weight_quant.h"

namespace llmnpu::quant {

constexpr int kPreparedVersion = 1;

enum class LinearSlot { Qkv = 0, O = 1, GateUp = 2, Down = 3 };
constexpr int kSlotsPerLayer = 4;
const char* slot_name(LinearSlot s);               // "qkv", "o", "gate_up", "down"
std::string linear_name(int layer, LinearSlot s);  // "blk.3.gate_up"

struct PreparedLinear {
  int layer = 0;
  LinearSlot slot = LinearSlot::Qkv;
  QuantizedWeights weights;           // [out][in]
  std::vector<float> bias;            // [out] or empty
  float act_scale = 1;                // static per-tensor activation scale
  bool shadow = true;                 // false: pruned, outliers are clipped in prefill
  std::vector<int32_t> hot_channels;  // increasing
  std::vector<uint16_t> hot_rows;     // F16 [hot][out]: W[:, k] of each hot channel
  std::vector<uint16_t> weight_t;     // F16 [in][out]: W^T, every channel (read on demand), without
                                      // the weight outliers (weights.outlier_*: they see the float x)
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
  size_t int8_bytes() const { return weights.q.size(); }
};

// The fused float weights [out][in] of one slot of a layer (qkv: Wq|Wk|Wv rows; gate_up: Wg|Wu), and
// the fused bias (empty when the model has none).
std::vector<float> fused_weights(const Model& model, int layer, LinearSlot slot, std::vector<float>* bias);

struct LinearPrepareOptions {
  bool per_channel_weights = true;
  double weight_outlier_share = 0.01;  // of each row's weights, kept as sparse float (weight_quant.h)
  double hot_share = 0.8;
};

// Quantizes one fused linear with a chosen scale; stats must hold both calibration passes (outlier
// counts for choice.clip).
PreparedLinear prepare_linear(int layer, LinearSlot slot, const float* w, int out, int in,
                              std::vector<float> bias, const ActivationStats& stats,
                              const ScaleChoice& choice, const LinearPrepareOptions& options);

// Makes exactly `channels` (increasing) hot: copies their rows from weight_t, updates the coverage.
void set_hot_channels(PreparedLinear& linear, std::vector<int32_t> channels);

// Cuts the hot channels of all linears back to budget_bytes of resident shadow memory (hot rows + weight
// outliers), keeping the channels with the most calibration outliers per byte (quant/resident_budget.h).
BudgetedHotChannels apply_resident_budget(std::vector<PreparedLinear>& linears, size_t budget_bytes);

// Turns the shadow path off for round(fraction * n) linears of least importance (on for the others).
// Returns how many were pruned.
int apply_pruning(std::vector<PreparedLinear>& linears, double fraction);

struct PreparedSettings {
  ScalePolicy policy;
  bool per_channel_weights = true;
  double weight_outlier_share = 0.01;
  double hot_share = 0.8;
  std::string prune = "auto";  // "auto" or the fraction given
  double prune_fraction = 0;   // what was applied
  int calibration_tokens = 0;
  std::string calibration_file;
  double resident_budget = 0.01;                     // share of the int8 weight bytes
  std::string recipe_mode = "auto";                  // --recipe: auto or default
  std::string recipe = "default";                    // what was chosen ("default": the settings as given)
  double heldout_kl = -1, heldout_baseline_kl = -1;  // measured by prepare (-1: not measured)
};

// Writes the prepared GGUF: architecture keys and tokenizer of `source`, its embedding, norms and
// output head as F32, and every linear of `linears` (all layers, slot order).
void write_prepared_gguf(const Model& source, const std::vector<PreparedLinear>& linears,
                         const PreparedSettings& settings, const std::string& path);

}  // namespace llmnpu::quant
