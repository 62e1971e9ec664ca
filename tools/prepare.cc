// llmnpu prepare: float model + calibration text -> one prepared W8A8 GGUF with shadow outlier data
// (the pipeline is prepare/prepare_pipeline.h; this file parses flags and prints its report).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>

#include "command.h"
#include "core/error.h"
#include "core/progress.h"
#include "flags.h"
#include "model_options.h"
#include "prepare/prepare_pipeline.h"
#include "runtime/machine_probes.h"

namespace llmnpu::cli {
namespace {

using namespace quant;

double percent(size_t part, size_t whole) { return whole ? 100.0 * double(part) / double(whole) : 0.0; }

int prepare_command(int argc, char** argv) {
  CLI::App app{"Prepare a W8A8 model with shadow outlier execution (one GGUF file)."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  std::string calib, output, method = "channel", granularity = "channel", prune = "auto",
                             recipe_mode = "auto";
  int calib_tokens = 4096, window = 512, prune_tokens = 512;
  ScalePolicy policy;
  policy.tail_percentile = 100;
  double warm_budget = 0.15;
  double hot_share = 0.8, prune_budget = 1.05, weight_outliers = 0.0, resident_budget = 0.01,
         recipe_margin = 0.95;
  app.add_option("--calib", calib, "calibration text file")->required();
  app.add_option("-o,--output", output, "prepared GGUF to write")->required();
  app.add_option("--calib-tokens", calib_tokens, "calibration tokens (default 4096)")
      ->check(integer_in(1, int64_t(1) << 24));
  app.add_option("--calib-window", window, "tokens per calibration window (default 512)")
      ->check(integer_in(2, kMaxTokensFlag));
  app.add_option("--scale-method", method, "activation scale: channel (default), percentile, max");
  app.add_option("--percentile", policy.percentile, "percentile method: which percentile (default 99.9)")
      ->check(number_in(0.0, 100.0, true));
  app.add_option("--percentile-ratio", policy.ratio,
                 "percentile method: clip only if pXX * ratio <= max (default 64)")
      ->check(number_in(1.0, 1e6));
  app.add_option("--channel-ratio", policy.channel_ratio,
                 "channel method: outlier channel if its max > ratio x median channel max (default 8)")
      ->check(number_in(1.0, 1e6));
  app.add_option("--max-outlier-channels", policy.max_channel_share,
                 "channel method: at most this share of channels are outlier channels (default 0.02)")
      ->check(number_in(0.0, 1.0));
  app.add_option(
         "--tail-percentile", policy.tail_percentile,
         "any method: clip at most this percentile of |x|, the shadow path takes the rest (default 100 "
         "= off; --recipe auto lowers it when needed, see docs/quantization.md)")
      ->check(number_in(0.0, 100.0, true));
  app.add_option("--weight-granularity", granularity, "int8 weight scales: channel (default) or tensor");
  app.add_option("--weight-outliers", weight_outliers,
                 "share of each weight row kept as sparse float outliers outside the int8 matrix (default 0; "
                 "see docs/quantization.md)")
      ->check(number_in(0.0, 0.5));
  app.add_option("--hot-share", hot_share,
                 "share of calibration outliers the hot channels cover (default 0.8)")
      ->check(number_in(0.0, 1.0));
  app.add_option("--resident-budget", resident_budget,
                 "resident shadow memory (hot rows + weight outliers) at most this share of the int8 weight "
                 "bytes; hot channels are cut back to fit (default 0.01)")
      ->check(number_in(0.0, 100.0));
  app.add_option("--warm-budget", warm_budget,
                 "F16 rows of channels that overflowed in calibration but are not hot, kept in the file and "
                 "read from the map on demand: at most this share of the int8 weight bytes (default 0.15); "
                 "other channels' rows are derived from the int8 weights")
      ->check(number_in(0.0, 100.0));
  app.add_option("--recipe", recipe_mode,
                 "auto (default): if the settings lose to a per-block-32 int8 baseline on held-out text, try "
                 "lower tail caps and weight outliers and keep the cheapest that matches it within the "
                 "budget; default: the settings as given");
  app.add_option("--recipe-margin", recipe_margin,
                 "--recipe auto: a setting matches the baseline when its held-out mean KL <= margin x the "
                 "baseline's (default 0.95: the held-out text is short and may differ from yours)")
      ->check(number_in(0.0, 10.0));
  app.add_option("--prune", prune, "shadow paths to drop: auto (default) or a fraction 0..1");
  app.add_option("--prune-budget", prune_budget,
                 "auto pruning: largest fraction whose held-out mean KL <= budget x unpruned (default 1.05)")
      ->check(number_in(1.0, 100.0));
  app.add_option("--prune-tokens", prune_tokens,
                 "held-out tokens for auto pruning and the recipe choice (default 512)")
      ->check(integer_in(1, int64_t(1) << 24));
  bool convert_at_load = false;
  app.add_flag("--convert-at-load", convert_at_load,
               "convert every float matrix to fp32 when loading (memory: the model's whole fp32 size). By "
               "default F16/BF16/quantized matrices stay in the file's encoding and are decoded a block of "
               "rows at a time where used; the prepared file is the same either way");
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  policy.method = parse_scale_method(method);
  check(granularity == "channel" || granularity == "tensor",
        "--weight-granularity must be channel or tensor");
  check(recipe_mode == "auto" || recipe_mode == "default", "--recipe must be auto or default, got '",
        recipe_mode, "'");
  double fixed_prune = -1;
  if (prune != "auto") {
    try {
      fixed_prune = std::stod(prune);
    } catch (...) {
      fail("--prune must be auto or a fraction in [0, 1], got '", prune, "'");
    }
    check(fixed_prune >= 0 && fixed_prune <= 1, "--prune must be auto or a fraction in [0, 1], got '", prune,
          "'");
  }
  PrepareOptions o;
  o.model_path = mo.model_path;
  o.tokenizer_path = mo.tokenizer_path;
  o.threads = mo.threads;
  o.stream_weights = !convert_at_load;
  o.check_memory = mo.check_memory;
  o.output_path = output;
  o.calibration_text = read_text_file(calib);
  o.calibration_name = calib;
  o.calib_tokens = calib_tokens;
  o.window = window;
  o.prune_tokens = prune_tokens;
  o.policy = policy;
  o.per_channel_weights = granularity == "channel";
  o.hot_share = hot_share;
  o.weight_outliers = weight_outliers;
  o.resident_budget = resident_budget;
  o.warm_budget = warm_budget;
  o.auto_recipe = recipe_mode == "auto";
  o.recipe_margin = recipe_margin;
  o.prune = fixed_prune;
  o.prune_budget = prune_budget;
  StageProgressBars bars;
  PrepareCallbacks callbacks;
  callbacks.progress = [&](const std::string& stage, size_t done, size_t total) {
    bars.update(stage, done, total);
  };
  callbacks.note = [](const std::string& text) { std::fprintf(stderr, "note: %s\n", text.c_str()); };
  const PrepareReport r = prepare_model(o, callbacks);

  if (o.auto_recipe) {
    std::printf(
        "recipe candidates (held-out mean KL at prune %.2f; target %.4g = %.3g x per-block-32 baseline %.4g; "
        "budget %.3g%%):\n",
        r.fractions[0], r.target_kl, recipe_margin, r.baseline_kl, 100 * resident_budget);
    for (size_t i = 0; i < r.candidates.size(); ++i) {
      const RecipeCandidate& cand = r.candidates[i];
      const std::string name = i == 0 ? "as given (" + cand.recipe.name() + ")" : cand.recipe.name();
      if (cand.measured)
        std::printf("  %-44s mean KL %9.4g  resident %7.3f%% %s\n", name.c_str(), cand.mean_kl,
                    percent(cand.resident_bytes, r.int8_bytes), i == r.chosen ? "<- chosen" : "");
      else
        std::printf("  %-44s not measured: weight outliers alone are %.3f%% resident (over budget)\n",
                    name.c_str(), percent(cand.resident_bytes, r.int8_bytes));
    }
    if (!r.meets_baseline)
      std::printf(
          "NOTE: no candidate reaches the target (margin x per-block-32 baseline) within the resident "
          "budget; keeping the lowest-KL one that fits (%s)\n",
          r.chosen_recipe.name().c_str());
  }
  if (fixed_prune < 0) {
    std::printf("auto pruning on %zu held-out tokens (budget: mean KL <= %.4g = min(%.3gx unpruned%s)):\n",
                r.heldout_tokens, r.prune_limit, prune_budget, r.target_kl >= 0 ? ", recipe target" : "");
    for (size_t i = 0; i < r.pruning.size(); ++i)
      std::printf("  prune %.2f: mean KL %.4g  top-1 %.4f %s\n", r.fractions[i], r.pruning[i].mean_kl,
                  r.pruning[i].top1_agreement,
                  r.pruning[i].mean_kl <= r.prune_limit + 1e-12 ? "(within budget)" : "");
  }

  std::printf("\n%-14s %9s %9s %9s %9s %7s %6s %8s %7s\n", "linear", "max|x|", "p99.9", "clip", "max/clip",
              "outl.ch", "hot", "coverage", "shadow");
  size_t outlier_channels = 0, max_outlier_channels = 0;
  double min_coverage = 1;
  for (const PreparedLinearSummary& L : r.linears) {
    outlier_channels += size_t(L.outlier_channels);
    max_outlier_channels = std::max(max_outlier_channels, size_t(L.outlier_channels));
    min_coverage = std::min(min_coverage, L.hot_coverage);
    std::printf("%-14s %9.3g %9.3g %9.3g %9.1f %7d %6zu %7.1f%% %7s\n", L.name.c_str(), L.act_max, L.p999,
                L.clip, L.max_over_clip, L.outlier_channels, L.hot_channels, 100.0 * L.hot_coverage,
                L.shadow ? "on" : "pruned");
  }
  const size_t n = r.linears.size();
  std::printf("\nscale method %s, weights per %s, %zu calibration tokens, recipe: %s (%s)\n",
              scale_method_name(policy.method), granularity.c_str(), r.calibration_tokens, r.recipe.c_str(),
              r.chosen_recipe.name().c_str());
  std::printf(
      "outlier channels per linear: mean %.1f, max %zu; hot channels cover %.1f%% of all calibration "
      "outliers (per linear: min %.1f%%)\n",
      double(outlier_channels) / double(std::max<size_t>(n, 1)), max_outlier_channels,
      100 * r.hot_coverage_all, 100 * min_coverage);
  std::printf("shadow paths pruned: %d of %zu (fraction %.2f)\n", r.pruned_paths, n, r.prune_applied);
  std::printf(
      "resident budget %.3g%% of the int8 weight bytes = %zu bytes: requested %zu bytes (%.3f%%), %zu "
      "hot channels made cold%s\n",
      100 * resident_budget, r.budget_bytes, r.requested_bytes, percent(r.requested_bytes, r.int8_bytes),
      r.dropped_channels, r.budget_fits ? "" : "; OVER BUDGET: the weight outliers alone exceed it");
  std::printf("resident shadow rows and weight outliers: %zu bytes = %.3f%% of the %zu int8 weight bytes\n",
              r.hot_bytes, percent(r.hot_bytes, r.int8_bytes), r.int8_bytes);
  std::printf(
      "warm rows (in the file, read on demand): %zu bytes = %.3f%% of the int8 weight bytes (asked %.3f%%, "
      "budget %.3g%%); hot + warm channels cover %.1f%% of calibration outliers\n",
      r.warm_bytes, percent(r.warm_bytes, r.int8_bytes), percent(r.warm_requested_bytes, r.int8_bytes),
      100 * warm_budget, 100 * r.warm_coverage_all);
  std::printf("wrote %s in %.1f s, peak memory %.0f MiB\n", output.c_str(), r.seconds, peak_rss_mib());
  std::printf("stages (wall time, peak memory at the end):");
  for (size_t i = 0; i < r.stages.size(); ++i)
    std::printf("%s %s %.1f s %.0f MiB", i ? "," : "", r.stages[i].name.c_str(), r.stages[i].seconds,
                r.stages[i].peak_mib);
  std::printf("\n");
  return 0;
}

Register reg("prepare", "prepare a W8A8 model with shadow outliers (-m MODEL --calib TEXT -o OUT.gguf)",
             prepare_command);

}  // namespace
}  // namespace llmnpu::cli
