#pragma once
// The writer of the one-file prepared GGUF (docs/prepared-format.md); backend/prepared_graph.h reads it.
#include <string>
#include <vector>

#include "model/model.h"
#include "quant/prepared_model.h"

namespace llmnpu {

struct PreparedSettings {
  quant::ScalePolicy policy;
  bool per_channel_weights = true;
  double weight_outlier_share = 0.01;
  double hot_share = 0.8;
  std::string prune = "auto";  // "auto" or the fraction given
  double prune_fraction = 0;   // what was applied
  int calibration_tokens = 0;
  std::string calibration_file;
  double warm_budget = 0.15;         // warm F16 rows in the file, as a share of the int8 weight bytes
  double resident_budget = 0.01;     // share of the int8 weight bytes
  std::string recipe_mode = "auto";  // --recipe: auto or default
  std::string recipe = "default";    // what was chosen ("default": the settings as given)
  double heldout_kl = -1, heldout_baseline_kl = -1;  // measured by prepare (-1: not measured)
};

// Writes the prepared GGUF (docs/prepared-format.md): architecture keys and tokenizer of `source`, its
// norms in F32, the embedding (and an untied output head) in F16, and every linear of `linears` (all
// layers, slot order) with its int8 weights in the packed layout. Tensor data is 64-byte aligned for the
// kernels' aligned loads.
void write_prepared_gguf(const Model& source, const std::vector<quant::PreparedLinear>& linears,
                         const PreparedSettings& settings, const std::string& path);

}  // namespace llmnpu
