#pragma once
// The whole `prepare` pipeline as one library call: float model + calibration text -> one prepared W8A8
// GGUF with shadow outlier data. Steps: calibrate (the float model over the text: statistics, and the
// outlier counts at the chosen clips from the largest values it kept, or a second pass for clips below
// them), quantize every fused linear, pick hot channels
// and cut them back to the resident budget, choose the recipe (auto: the cheapest setting that matches
// a per-block-32 baseline on held-out text after the calibration tokens), choose how many shadow paths
// to prune (measured on the same held-out text), write. See docs/quantization.md.
//
// It sits above runtime/ because calibration and the held-out measurements run the engine.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "prepare/accuracy.h"
#include "quant/recipe.h"
#include "quant/scale_policy.h"

namespace llmnpu {

struct PrepareOptions {
  std::string model_path;      // a float model (GGUF, HF folder, llama2.c)
  std::string tokenizer_path;  // optional tokenizer instead of the model's
  std::string output_path;     // the prepared GGUF to write
  std::string calibration_text;
  std::string calibration_name;  // recorded in the file (the calibration file's name)
  int threads = 0;
  bool check_memory = true;  // refuse, before loading, a model the machine lacks the memory to prepare
  // Keep the float model's matrices in the file's encoding and decode blocks of rows where they are used
  // (LoadOptions::stream_matrices): no fp32 copy of an F16/BF16/quantized model. The output is the same
  // either way (test); false converts every matrix at load, as run does.
  bool stream_weights = true;
  int calib_tokens = 4096;  // calibration tokens (the text after them is held out)
  int window = 512;         // tokens per calibration window
  int prune_tokens = 512;   // held-out tokens for pruning and the recipe choice
  quant::ScalePolicy policy = default_policy();
  bool per_channel_weights = true;  // int8 weight scales per output channel (else per tensor)
  double hot_share = 0.8;           // share of calibration outliers the hot channels cover
  double weight_outliers = 0.0;     // share of each weight row kept as sparse float outliers
  double resident_budget = 0.01;    // resident shadow memory as a share of the int8 weight bytes
  // Warm rows: F16 weight columns of channels that overflowed in calibration but are not hot, kept in the
  // file (read from the map on demand), at most this share of the int8 weight bytes; other channels'
  // rows are derived from the int8 weights.
  double warm_budget = 0.15;
  bool auto_recipe = true;      // search recipes against the per-block-32 baseline
  double recipe_margin = 0.95;  // a setting matches when its held-out KL <= margin x baseline
  double prune = -1;            // shadow paths to drop: a fraction 0..1, or < 0 for auto
  double prune_budget = 1.05;   // auto pruning: largest fraction with KL <= budget x unpruned

  static quant::ScalePolicy default_policy() {
    quant::ScalePolicy p;
    p.tail_percentile = 100;
    return p;
  }
};

// Progress of the long steps (stage names like "calibrate", "quantize", "held-out") and notes
// worth telling the user as they happen. Either may be empty.
struct PrepareCallbacks {
  std::function<void(const std::string& stage, size_t done, size_t total)> progress;
  std::function<void(const std::string& note)> note;
};

struct PreparedLinearSummary {
  std::string name;
  double act_max = 0, p999 = 0, clip = 0, max_over_clip = 0;
  int outlier_channels = 0;
  size_t hot_channels = 0;
  double hot_coverage = 0;
  bool shadow = true;
};

struct PrepareReport {
  // Recipe search (auto_recipe): the candidates measured, cheapest first, and the one chosen.
  std::vector<quant::RecipeCandidate> candidates;
  size_t chosen = 0;
  bool meets_baseline = true;
  double baseline_kl = -1, target_kl = -1;
  std::string recipe;  // "default" or the chosen recipe's name
  quant::Recipe chosen_recipe;
  // Pruning (auto): each fraction's held-out accuracy, the KL limit, the fraction applied.
  std::vector<double> fractions;
  std::vector<AccuracyResult> pruning;
  double prune_limit = -1, prune_applied = 0;
  size_t heldout_tokens = 0;
  int pruned_paths = 0;
  std::vector<PreparedLinearSummary> linears;
  size_t calibration_tokens = 0;
  size_t int8_bytes = 0, budget_bytes = 0, requested_bytes = 0, dropped_channels = 0, hot_bytes = 0;
  size_t warm_bytes = 0, warm_requested_bytes = 0;  // warm rows written, and asked for before the budget
  double warm_coverage_all = 1;  // share of all calibration outliers in hot or warm channels
  bool budget_fits = true;
  double hot_coverage_all = 1;  // share of all calibration outliers the hot channels cover
  double seconds = 0;
  // Wall time per stage (load, calibration statistics, outlier counts, quantize, held-out accuracy,
  // write), in the order first reached; a stage run more than once (recipe search) sums. peak_mib: the
  // process's peak resident memory when the stage (last) ended.
  struct Stage {
    std::string name;
    double seconds = 0, peak_mib = 0;
  };
  std::vector<Stage> stages;
  void add_stage_time(const std::string& stage, double seconds, double peak_mib);
};

// Throws Error for unusable input (no float weights, no tokenizer, calibration text too short) or when
// the output cannot be written.
PrepareReport prepare_model(const PrepareOptions& options, const PrepareCallbacks& callbacks = {});

}  // namespace llmnpu
