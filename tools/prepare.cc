// llmnpu prepare: float model + calibration text -> one prepared W8A8 GGUF with shadow outlier data.
// Steps: calibrate (two passes of the float reference over the text: statistics, then outlier counts
// at the chosen clip), quantize every fused linear, pick hot channels and cut them back to the resident
// budget, choose the recipe (--recipe auto: the cheapest setting that matches a per-block-32 baseline on
// held-out text after the calibration tokens), choose how many shadow paths to prune (measured on the
// same held-out text), write. See docs/quantization.md.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "accuracy.h"
#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "backend/q8_block_linear.h"
#include "command.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/timer.h"
#include "flags.h"
#include "model_options.h"
#include "quant/prepared_model.h"
#include "quant/recipe.h"
#include "quant/recording_linear.h"

namespace llmnpu::cli {
namespace {

using namespace quant;

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

// Runs the float model over the windows with every fused linear input recorded.
void run_calibration(const Model& model, std::vector<ActivationStats>& stats, RecordPass pass,
                     const std::vector<std::vector<int32_t>>& windows, int context, int threads,
                     const char* label) {
  ModelGraph g = build_float_graph(model);
  RecordPass current = pass;
  for (size_t l = 0; l < g.layers.size(); ++l) {
    LayerLinears& L = g.layers[l];
    std::unique_ptr<LinearOp>* slots[kSlotsPerLayer] = {&L.qkv, &L.o, &L.gate_up, &L.down};
    for (int s = 0; s < kSlotsPerLayer; ++s)
      *slots[s] = std::make_unique<RecordingLinear>(std::move(*slots[s]),
                                                    &stats[l * kSlotsPerLayer + size_t(s)], &current);
  }
  EngineOptions eo;
  eo.threads = threads;
  eo.context = context;
  Engine engine(model, g, eo);
  ProgressBar bar(label, windows.size(), true);
  for (size_t i = 0; i < windows.size(); ++i) {
    engine.reset();
    engine.prefill(windows[i]);
    bar.update(i + 1);
  }
  bar.finish();
}

// Calibration pass 1 done; what quantizing one setting needs.
struct Calibration {
  const Model& model;
  std::vector<ActivationStats>& stats;
  const std::vector<std::vector<int32_t>>& windows;
  int context = 0, threads = 0;
};

struct QuantizedModel {
  std::vector<PreparedLinear> linears;
  BudgetedHotChannels budget;
  size_t int8_bytes = 0, budget_bytes = 0;
};

size_t budget_bytes_for(size_t int8_bytes, double share) {
  return size_t(std::floor(share * double(int8_bytes)));
}

// Scales for the policy, calibration pass 2 (outlier counts at those clips), every fused linear quantized,
// hot channels cut back to the resident budget.
QuantizedModel quantize_setting(const Calibration& cal, const ScalePolicy& policy,
                                const LinearPrepareOptions& lpo, double budget_share, const char* label) {
  std::vector<ScaleChoice> choices;
  for (auto& s : cal.stats) {
    choices.push_back(choose_scale(s, policy));
    s.set_outlier_clip(choices.back().clip);
  }
  run_calibration(cal.model, cal.stats, RecordPass::Outliers, cal.windows, cal.context, cal.threads, label);
  QuantizedModel q;
  const size_t n = cal.stats.size();
  ProgressBar bar("quantize", n, true);
  for (size_t i = 0; i < n; ++i) {
    const int layer = int(i / kSlotsPerLayer);
    const LinearSlot slot = LinearSlot(i % kSlotsPerLayer);
    std::vector<float> bias;
    std::vector<float> w = fused_weights(cal.model, layer, slot, &bias);
    const int in = cal.stats[i].channels(), out = int(w.size() / size_t(in));
    q.linears.push_back(
        prepare_linear(layer, slot, w.data(), out, in, std::move(bias), cal.stats[i], choices[i], lpo));
    q.int8_bytes += q.linears.back().int8_bytes();
    bar.update(i + 1);
  }
  bar.finish();
  q.budget_bytes = budget_bytes_for(q.int8_bytes, budget_share);
  q.budget = apply_resident_budget(q.linears, q.budget_bytes);
  return q;
}

// Resident bytes of the weight outliers alone for a share (known before quantizing: per-row counts).
size_t weight_outlier_bytes(const ModelConfig& c, double share) {
  const size_t per = 3 * sizeof(float);
  auto slot = [&](int in, int out) { return size_t(weight_outliers_per_row(share, in)) * size_t(out) * per; };
  const size_t layer = slot(c.dim, c.q_dim() + 2 * c.kv_dim()) + slot(c.q_dim(), c.dim) +
                       slot(c.dim, 2 * c.ffn_dim) + slot(c.ffn_dim, c.dim);
  return layer * size_t(c.n_layers);
}

// Held-out accuracy: the float reference engine is built once; each call measures one prepared model at
// several pruning fractions, and optionally the per-block-32 dynamic int8 baseline (last result).
class HeldOut {
 public:
  HeldOut(const Model& model, std::vector<int32_t> tokens, int window, int32_t bos, int threads)
      : model_(model), tokens_(std::move(tokens)), window_(window), bos_(bos) {
    options_.threads = threads;
    options_.context = window;
    ref_graph_ = std::make_unique<ModelGraph>(build_float_graph(model));
    ref_ = std::make_unique<Engine>(model, *ref_graph_, options_);
  }
  size_t tokens() const { return tokens_.size(); }

  std::vector<AccuracyResult> measure(std::vector<PreparedLinear>& linears,
                                      const std::vector<double>& fractions, const std::string& label) {
    std::vector<Int8Linear*> ops;
    ModelGraph qgraph = build_prepared_graph(model_, linears, &ops);
    Engine quant(model_, qgraph, options_);
    std::vector<AccuracyVariant> variants;
    for (double f : fractions)
      variants.push_back({str("prune ", f), &quant, [&linears, &ops, f] {
                            apply_pruning(linears, f);
                            for (size_t i = 0; i < ops.size(); ++i) ops[i]->set_shadow(linears[i].shadow);
                          }});
    return compare(variants, label);
  }

  // Measured on its own, before any prepared linears exist: its dequantized float weights are as large
  // as the float model's, so they never share memory with the prepared ones (1.4 GB on qwen2.5-0.5b).
  double baseline_kl() {
    ModelGraph q8_graph = build_q8_block_graph(model_);
    Engine q8(model_, q8_graph, options_);
    return compare({{"q8 blocks of 32", &q8, nullptr}}, "baseline")[0].mean_kl;
  }

 private:
  std::vector<AccuracyResult> compare(const std::vector<AccuracyVariant>& variants,
                                      const std::string& label) {
    ProgressBar bar(label, make_windows(tokens_, window_, bos_).size(), true);
    auto r = compare_to_reference(*ref_, variants, tokens_, window_, bos_,
                                  [&](int d, int) { bar.update(size_t(d)); });
    bar.finish();
    return r;
  }

  const Model& model_;
  std::vector<int32_t> tokens_;
  int window_;
  int32_t bos_;
  EngineOptions options_;
  std::unique_ptr<ModelGraph> ref_graph_;
  std::unique_ptr<Engine> ref_;
};

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
  const bool auto_recipe = recipe_mode == "auto";
  const double t0 = now_seconds();

  LoadOptions lo;
  lo.tokenizer_path = mo.tokenizer_path;
  std::unique_ptr<Model> model = load_model(mo.model_path, lo);
  check(model->weights.layers.empty() || model->weights.layers[0].wq != nullptr, "'", mo.model_path,
        "' has no float weights to prepare");
  check(model->tokenizer != nullptr, "model has no tokenizer: pass one with --tokenizer");
  const ModelConfig& c = model->config;
  const std::string text = read_text_file(calib);
  std::vector<int32_t> ids = model->tokenizer->encode(text, false);
  check(ids.size() >= 2, "calibration text '", calib, "' is too short");
  const int32_t bos = model->tokenizer->adds_bos() ? model->tokenizer->bos_id() : -1;
  window = std::min(window, c.max_seq_len);
  const size_t n_calib = std::min(ids.size(), size_t(calib_tokens));
  if (n_calib < size_t(calib_tokens))
    std::fprintf(stderr, "note: the calibration text has only %zu tokens (asked for %d)\n", ids.size(),
                 calib_tokens);
  const std::vector<int32_t> calib_ids(ids.begin(), ids.begin() + long(n_calib));
  const auto windows = make_windows(calib_ids, window, bos);
  const int context = window;

  // Calibration pass 1: statistics (pass 2, the outlier counts, depends on the clips of each setting).
  const size_t n = size_t(c.n_layers) * kSlotsPerLayer;
  std::vector<ActivationStats> stats;
  for (int l = 0; l < c.n_layers; ++l) {
    stats.emplace_back(c.dim);
    stats.emplace_back(c.q_dim());
    stats.emplace_back(c.dim);
    stats.emplace_back(c.ffn_dim);
  }
  run_calibration(*model, stats, RecordPass::Statistics, windows, context, mo.threads, "calibrate 1/2");
  const Calibration cal{*model, stats, windows, context, mo.threads};

  LinearPrepareOptions lpo;
  lpo.per_channel_weights = granularity == "channel";
  lpo.hot_share = hot_share;
  lpo.weight_outlier_share = weight_outliers;
  auto settings_of = [&](const Recipe& r) {
    std::pair<ScalePolicy, LinearPrepareOptions> s{policy, lpo};
    s.first.tail_percentile = r.tail_percentile;
    s.second.weight_outlier_share = r.weight_outlier_share;
    return s;
  };
  auto quantize = [&](const Recipe& r, const char* label) {
    auto [p, o] = settings_of(r);
    return quantize_setting(cal, p, o, resident_budget, label);
  };

  // Held-out measurements: pruning fractions, recipe candidates and the baseline share one reference engine.
  const std::vector<double> fractions =
      fixed_prune < 0 ? std::vector<double>{0, 0.25, 0.5, 0.75, 0.85, 1} : std::vector<double>{fixed_prune};
  std::unique_ptr<HeldOut> held;
  if (fixed_prune < 0 || auto_recipe) {
    std::vector<int32_t> tokens(ids.begin() + long(n_calib), ids.end());
    if (tokens.size() > size_t(prune_tokens)) tokens.resize(size_t(prune_tokens));
    if (tokens.size() < 16) {
      std::fprintf(stderr,
                   "note: no held-out text after the calibration tokens; measuring on the last calibration "
                   "tokens instead\n");
      tokens.assign(calib_ids.end() - long(std::min(calib_ids.size(), size_t(prune_tokens))),
                    calib_ids.end());
    }
    held = std::make_unique<HeldOut>(*model, std::move(tokens), window, bos, mo.threads);
  }
  double baseline_kl = -1, target_kl = -1;  // target: what a setting must reach to match the baseline
  if (auto_recipe) {
    baseline_kl = held->baseline_kl();
    target_kl = recipe_margin * baseline_kl;
  }

  // Candidate 0: the settings as given.
  std::vector<RecipeCandidate> candidates(1);
  candidates[0].recipe = {policy.tail_percentile, weight_outliers};
  QuantizedModel q = quantize(candidates[0].recipe, "calibrate 2/2");
  candidates[0].resident_bytes = q.budget.resident_bytes;
  size_t held_index = 0;  // the candidate whose linears q holds

  std::vector<AccuracyResult> pruning;  // per fraction, for the candidate held in q
  if (held) {
    pruning = held->measure(q.linears, fractions, "held-out");
    candidates[0].measured = true;
    candidates[0].mean_kl = pruning[0].mean_kl;
  }

  // Recipe search, cheapest first, stopping at the first candidate that matches the baseline.
  RecipeDecision decision;
  if (auto_recipe) {
    decision = choose_recipe(candidates, target_kl, q.budget_bytes);
    if (!decision.meets_baseline) {
      std::printf(
          "settings as given: held-out mean KL %.4g > %.3g x per-block-32 baseline %.4g: trying recipes\n",
          candidates[0].mean_kl, recipe_margin, baseline_kl);
      for (const Recipe& step : recipe_ladder()) {
        Recipe r{std::min(step.tail_percentile, policy.tail_percentile),
                 std::max(step.weight_outlier_share, weight_outliers)};
        bool seen = false;
        for (const auto& cand : candidates)
          seen |= cand.recipe.tail_percentile == r.tail_percentile &&
                  cand.recipe.weight_outlier_share == r.weight_outlier_share;
        if (seen) continue;
        RecipeCandidate cand;
        cand.recipe = r;
        cand.resident_bytes = weight_outlier_bytes(c, r.weight_outlier_share);
        if (cand.resident_bytes <= q.budget_bytes) {
          q = {};  // release the previous candidate first: one prepared model in memory at a time
          q = quantize(r, "recipe calibrate");
          held_index = candidates.size();
          cand.resident_bytes = q.budget.resident_bytes;
          const auto m = held->measure(q.linears, {fractions[0]}, "recipe held-out");
          cand.measured = true;
          cand.mean_kl = m[0].mean_kl;
        }
        candidates.push_back(cand);
        decision = choose_recipe(candidates, target_kl, q.budget_bytes);
        if (decision.meets_baseline) break;
      }
    }
    std::printf(
        "recipe candidates (held-out mean KL at prune %.2f; target %.4g = %.3g x per-block-32 baseline %.4g; "
        "budget %.3g%%):\n",
        fractions[0], target_kl, recipe_margin, baseline_kl, 100 * resident_budget);
    for (size_t i = 0; i < candidates.size(); ++i) {
      const RecipeCandidate& cand = candidates[i];
      const std::string name = i == 0 ? "as given (" + cand.recipe.name() + ")" : cand.recipe.name();
      if (cand.measured)
        std::printf("  %-44s mean KL %9.4g  resident %7.3f%% %s\n", name.c_str(), cand.mean_kl,
                    percent(cand.resident_bytes, q.int8_bytes), i == decision.index ? "<- chosen" : "");
      else
        std::printf("  %-44s not measured: weight outliers alone are %.3f%% resident (over budget)\n",
                    name.c_str(), percent(cand.resident_bytes, q.int8_bytes));
    }
    if (!decision.meets_baseline)
      std::printf(
          "NOTE: no candidate reaches the target (margin x per-block-32 baseline) within the resident "
          "budget; keeping the lowest-KL one that fits (%s)\n",
          candidates[decision.index].recipe.name().c_str());
    if (decision.index != held_index) {
      q = {};
      q = quantize(candidates[decision.index].recipe, "recipe calibrate");
      held_index = decision.index;
    }
    if (decision.index != 0) pruning.clear();  // measured for the settings as given
  }
  const Recipe chosen = candidates[decision.index].recipe;
  std::vector<PreparedLinear>& linears = q.linears;

  // Pruning: a fixed fraction, or the most pruning whose held-out KL stays within the budget (and, when
  // the baseline was measured and the unpruned model reaches the recipe target, within that target).
  double applied = fixed_prune;
  if (fixed_prune < 0) {
    if (pruning.empty()) pruning = held->measure(linears, fractions, "pruning");
    double limit = pruning[0].mean_kl * prune_budget;
    if (target_kl >= 0 && pruning[0].mean_kl <= target_kl) limit = std::min(limit, target_kl);
    applied = 0;
    std::printf("auto pruning on %zu held-out tokens (budget: mean KL <= %.4g = min(%.3gx unpruned%s)):\n",
                held->tokens(), limit, prune_budget, target_kl >= 0 ? ", recipe target" : "");
    for (size_t i = 0; i < pruning.size(); ++i) {
      const bool ok = pruning[i].mean_kl <= limit + 1e-12;
      std::printf("  prune %.2f: mean KL %.4g  top-1 %.4f %s\n", fractions[i], pruning[i].mean_kl,
                  pruning[i].top1_agreement, ok ? "(within budget)" : "");
      if (ok) applied = std::max(applied, fractions[i]);
    }
  }
  const int pruned = apply_pruning(linears, applied);

  // Report.
  std::printf("\n%-14s %9s %9s %9s %9s %7s %6s %8s %7s\n", "linear", "max|x|", "p99.9", "clip", "max/clip",
              "outl.ch", "hot", "coverage", "shadow");
  size_t hot_bytes = 0, outlier_channels = 0, max_outlier_channels = 0;
  double min_coverage = 1, outliers = 0, covered = 0;
  for (size_t i = 0; i < n; ++i) {
    const PreparedLinear& L = linears[i];
    hot_bytes += L.hot_bytes();
    outlier_channels += size_t(L.outlier_channels);
    max_outlier_channels = std::max(max_outlier_channels, size_t(L.outlier_channels));
    min_coverage = std::min(min_coverage, L.hot_coverage);
    outliers += double(L.outliers);
    covered += L.hot_coverage * double(L.outliers);
    std::printf("%-14s %9.3g %9.3g %9.3g %9.1f %7d %6zu %7.1f%% %7s\n", L.name().c_str(), double(L.act_max),
                double(L.p999), double(L.act_scale * 127.0f), L.importance / 127.0, L.outlier_channels,
                L.hot_channels.size(), 100.0 * L.hot_coverage, L.shadow ? "on" : "pruned");
  }
  PreparedSettings ps;
  ps.policy = settings_of(chosen).first;
  ps.per_channel_weights = lpo.per_channel_weights;
  ps.hot_share = hot_share;
  ps.weight_outlier_share = chosen.weight_outlier_share;
  ps.prune = prune;
  ps.prune_fraction = applied;
  ps.calibration_tokens = int(n_calib);
  ps.calibration_file = calib;
  ps.resident_budget = resident_budget;
  ps.recipe_mode = recipe_mode;
  ps.recipe = decision.index == 0 ? "default" : chosen.name();
  ps.heldout_kl = candidates[decision.index].measured ? candidates[decision.index].mean_kl : -1;
  ps.heldout_baseline_kl = baseline_kl;
  write_prepared_gguf(*model, linears, ps, output);
  std::printf("\nscale method %s, weights per %s, %zu calibration tokens, recipe: %s (%s)\n",
              scale_method_name(policy.method), granularity.c_str(), n_calib, ps.recipe.c_str(),
              chosen.name().c_str());
  std::printf(
      "outlier channels per linear: mean %.1f, max %zu; hot channels cover %.1f%% of all calibration "
      "outliers "
      "(per linear: min %.1f%%)\n",
      double(outlier_channels) / double(n), max_outlier_channels,
      outliers > 0 ? 100 * covered / outliers : 100.0, 100 * min_coverage);
  std::printf("shadow paths pruned: %d of %zu (fraction %.2f)\n", pruned, n, applied);
  std::printf(
      "resident budget %.3g%% of the int8 weight bytes = %zu bytes: requested %zu bytes (%.3f%%), %zu "
      "hot channels made cold%s\n",
      100 * resident_budget, q.budget_bytes, q.budget.requested_bytes,
      percent(q.budget.requested_bytes, q.int8_bytes), q.budget.dropped_channels,
      q.budget.fits ? "" : "; OVER BUDGET: the weight outliers alone exceed it");
  std::printf("resident shadow rows and weight outliers: %zu bytes = %.3f%% of the %zu int8 weight bytes\n",
              hot_bytes, percent(hot_bytes, q.int8_bytes), q.int8_bytes);
  std::printf("wrote %s in %.1f s, peak memory %.0f MiB\n", output.c_str(), now_seconds() - t0,
              peak_rss_mib());
  return 0;
}

Register reg("prepare", "prepare a W8A8 model with shadow outliers (-m MODEL --calib TEXT -o OUT.gguf)",
             prepare_command);

}  // namespace
}  // namespace llmnpu::cli
