#include "prepare/prepare_pipeline.h"

#include <algorithm>
#include <cmath>

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "backend/prepared_writer.h"
#include "backend/q8_block_linear.h"
#include "core/error.h"
#include "core/timer.h"
#include "model/loader.h"
#include "model/tensor_names.h"
#include "quant/prepared_model.h"
#include "quant/recording_linear.h"
#include "runtime/engine.h"
#include "runtime/machine_probes.h"
#include "runtime/memory_estimate.h"

namespace llmnpu {
namespace {

using namespace quant;

void progress(const PrepareCallbacks& cb, const std::string& stage, size_t done, size_t total) {
  if (cb.progress) cb.progress(stage, done, total);
}

void note(const PrepareCallbacks& cb, const std::string& text) {
  if (cb.note) cb.note(text);
}

// Runs the float model over the windows with every fused linear input recorded.
void run_calibration(const Model& model, std::vector<ActivationStats>& stats, RecordPass pass,
                     const std::vector<std::vector<int32_t>>& windows, int context, int threads,
                     const char* label, const PrepareCallbacks& cb) {
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
  // Windows go through the model together, up to kCalibrationRows rows at a time: each (streamed)
  // weight is then read and converted once per group rather than once per window. The statistics only
  // count, so they do not depend on the grouping.
  constexpr size_t kCalibrationRows = 2048;
  for (size_t i = 0; i < windows.size();) {
    std::vector<std::vector<int32_t>> group;
    size_t rows = 0;
    while (i < windows.size() && (group.empty() || rows + windows[i].size() <= kCalibrationRows)) {
      rows += windows[i].size();
      group.push_back(windows[i++]);
    }
    engine.prefill_independent(group);
    progress(cb, label, i, windows.size());
  }
}

// Charges the wall time since the last mark to a stage of the report.
class StageClock {
 public:
  explicit StageClock(PrepareReport& report) : report_(report), mark_(now_seconds()) {}
  void charge(const std::string& stage) {
    const double t = now_seconds();
    report_.add_stage_time(stage, t - mark_, peak_rss_mib());
    mark_ = t;
  }

 private:
  PrepareReport& report_;
  double mark_;
};

// Calibration pass 1 done; what quantizing one setting needs.
struct Calibration {
  const Model& model;
  std::vector<ActivationStats>& stats;
  const std::vector<std::vector<int32_t>>& windows;
  int context = 0, threads = 0;
  const PrepareCallbacks& callbacks;
  StageClock& clock;
};

struct QuantizedModel {
  std::vector<PreparedLinear> linears;
  BudgetedHotChannels budget, warm;
  size_t int8_bytes = 0, budget_bytes = 0;
};

size_t budget_bytes_for(size_t int8_bytes, double share) {
  return size_t(std::floor(share * double(int8_bytes)));
}

// Scales for the policy, the outlier counts at those clips (from the kept tails, or a second calibration
// pass), every fused linear quantized, hot channels cut back to the resident budget.
QuantizedModel quantize_setting(const Calibration& cal, const ScalePolicy& policy,
                                const LinearPrepareOptions& lpo, double budget_share, double warm_share,
                                const char* label) {
  std::vector<ScaleChoice> choices;
  bool second_pass = false;  // only for clips below the tail pass 1 kept (low tail percentiles)
  for (auto& s : cal.stats) {
    choices.push_back(choose_scale(s, policy));
    if (!s.count_outliers_from_tail(choices.back().clip)) {
      s.set_outlier_clip(choices.back().clip);
      second_pass = true;
    }
  }
  if (second_pass)
    run_calibration(cal.model, cal.stats, RecordPass::Outliers, cal.windows, cal.context, cal.threads, label,
                    cal.callbacks);
  cal.clock.charge("outlier counts");
  QuantizedModel q;
  const size_t n = cal.stats.size();
  // The resident budget first (it needs only the outlier counts and shapes), so each linear is quantized
  // once with its final hot channels.
  std::vector<HotChannelRequest> requests;
  for (size_t i = 0; i < n; ++i) {
    const auto [in, out] = slot_shape(cal.model.config, LinearSlot(i % kSlotsPerLayer));
    requests.push_back(hot_channel_request(cal.stats[i], out, lpo));
    q.int8_bytes += size_t(in) * size_t(out);
  }
  q.budget_bytes = budget_bytes_for(q.int8_bytes, budget_share);
  q.budget = fit_hot_channels(requests, q.budget_bytes);
  // Warm rows (in the file, not resident): the channels that overflowed and are not hot, cut back to the
  // warm budget by outliers per byte as the hot ones are.
  std::vector<HotChannelRequest> warm_requests;
  for (size_t i = 0; i < n; ++i)
    warm_requests.push_back(warm_channel_request(
        cal.stats[i], slot_shape(cal.model.config, LinearSlot(i % kSlotsPerLayer)).second,
        q.budget.channels[i]));
  q.warm = fit_hot_channels(warm_requests, budget_bytes_for(q.int8_bytes, warm_share));
  std::vector<float> w;  // one buffer for every linear's float weights
  for (size_t i = 0; i < n; ++i) {
    const int layer = int(i / kSlotsPerLayer);
    const LinearSlot slot = LinearSlot(i % kSlotsPerLayer);
    std::vector<float> bias;
    fused_weights(cal.model, layer, slot, w, &bias);
    const int in = cal.stats[i].channels(), out = int(w.size() / size_t(in));
    q.linears.push_back(prepare_linear(layer, slot, w.data(), out, in, std::move(bias), cal.stats[i],
                                       choices[i], lpo, q.budget.channels[i], q.warm.channels[i]));
    progress(cal.callbacks, "quantize", i + 1, n);
  }
  cal.clock.charge("quantize");
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
// several pruning fractions, and optionally the per-block-32 dynamic int8 baseline (then the last result:
// it rides along with the first measurement rather than running the reference once more on its own).
class HeldOut {
 public:
  HeldOut(const Model& model, std::vector<int32_t> tokens, int window, int32_t bos, int threads,
          const PrepareCallbacks& cb)
      : model_(model), tokens_(std::move(tokens)), window_(window), bos_(bos), cb_(cb) {
    options_.threads = threads;
    options_.context = window;
    ref_graph_ = std::make_unique<ModelGraph>(build_float_graph(model));
    ref_ = std::make_unique<Engine>(model, *ref_graph_, options_);
  }
  size_t tokens() const { return tokens_.size(); }

  std::vector<AccuracyResult> measure(std::vector<PreparedLinear>& linears,
                                      const std::vector<double>& fractions, const std::string& label,
                                      bool with_baseline = false) {
    std::vector<Int8Linear*> ops;
    ModelGraph qgraph = build_prepared_graph(model_, linears, &ops, /*stream_head=*/true);
    Engine quant(model_, qgraph, options_);
    std::vector<AccuracyVariant> variants;
    for (double f : fractions)
      variants.push_back({str("prune ", f), &quant, [&linears, &ops, f] {
                            apply_pruning(linears, f);
                            for (size_t i = 0; i < ops.size(); ++i) ops[i]->set_shadow(linears[i].shadow);
                          }});
    // The baseline's linears read and round the (streamed) float weights at each call: no copy is kept.
    std::unique_ptr<ModelGraph> q8_graph;
    std::unique_ptr<Engine> q8;
    if (with_baseline) {
      q8_graph = std::make_unique<ModelGraph>(build_q8_block_graph(model_));
      q8 = std::make_unique<Engine>(model_, *q8_graph, options_);
      variants.push_back({"q8 blocks of 32", q8.get(), nullptr});
    }
    return compare(variants, label);
  }

 private:
  std::vector<AccuracyResult> compare(const std::vector<AccuracyVariant>& variants,
                                      const std::string& label) {
    return compare_to_reference(*ref_, variants, tokens_, window_, bos_, [&](int done, int total) {
      progress(cb_, label, size_t(done), size_t(total));
    });
  }

  const Model& model_;
  std::vector<int32_t> tokens_;
  int window_;
  int32_t bos_;
  const PrepareCallbacks& cb_;
  EngineOptions options_;
  std::unique_ptr<ModelGraph> ref_graph_;
  std::unique_ptr<Engine> ref_;
};

}  // namespace

void PrepareReport::add_stage_time(const std::string& stage, double s, double peak_mib) {
  for (Stage& st : stages)
    if (st.name == stage) {
      st.seconds += s;
      st.peak_mib = peak_mib;
      return;
    }
  stages.push_back({stage, s, peak_mib});
}

PrepareReport prepare_model(const PrepareOptions& options, const PrepareCallbacks& callbacks) {
  const double t0 = now_seconds();
  PrepareReport report;
  StageClock clock(report);
  const bool auto_recipe = options.auto_recipe;
  const double fixed_prune = options.prune;
  const ScalePolicy& policy = options.policy;
  const double weight_outliers = options.weight_outliers;
  int window = options.window;

  if (options.check_memory)
    check_memory(estimate_prepare_memory(options.model_path, options.window, options.stream_weights),
                 "preparing '" + options.model_path + "'");
  LoadOptions lo;
  lo.tokenizer_path = options.tokenizer_path;
  lo.stream_matrices = options.stream_weights;
  std::unique_ptr<Model> model = load_model(options.model_path, lo);
  clock.charge("load");
  check(model->weights.layers.empty() || bool(model->matrix(0, TensorRole::Wq)), "'", options.model_path,
        "' has no float weights to prepare");
  check(model->tokenizer != nullptr, "model has no tokenizer: pass one with --tokenizer");
  const ModelConfig& c = model->config;
  std::vector<int32_t> ids = model->tokenizer->encode(options.calibration_text, false);
  check(ids.size() >= 2, "calibration text '", options.calibration_name, "' is too short");
  const int32_t bos = model->tokenizer->adds_bos() ? model->tokenizer->bos_id() : -1;
  window = std::min(window, c.max_seq_len);
  const size_t n_calib = std::min(ids.size(), size_t(options.calib_tokens));
  if (n_calib < size_t(options.calib_tokens))
    note(callbacks,
         str("the calibration text has only ", ids.size(), " tokens (asked for ", options.calib_tokens, ")"));
  const std::vector<int32_t> calib_ids(ids.begin(), ids.begin() + long(n_calib));
  const auto windows = make_windows(calib_ids, window, bos);
  const int context = window;

  // Calibration pass 1: statistics (pass 2, the outlier counts, depends on the clips of each setting).
  std::vector<ActivationStats> stats;
  for (int l = 0; l < c.n_layers; ++l) {
    stats.emplace_back(c.dim);
    stats.emplace_back(c.q_dim());
    stats.emplace_back(c.dim);
    stats.emplace_back(c.ffn_dim);
  }
  run_calibration(*model, stats, RecordPass::Statistics, windows, context, options.threads, "calibrate",
                  callbacks);
  clock.charge("calibration statistics");
  const Calibration cal{*model, stats, windows, context, options.threads, callbacks, clock};

  LinearPrepareOptions lpo;
  lpo.per_channel_weights = options.per_channel_weights;
  lpo.hot_share = options.hot_share;
  lpo.weight_outlier_share = weight_outliers;
  auto settings_of = [&](const Recipe& r) {
    std::pair<ScalePolicy, LinearPrepareOptions> s{policy, lpo};
    s.first.tail_percentile = r.tail_percentile;
    s.second.weight_outlier_share = r.weight_outlier_share;
    return s;
  };
  auto quantize = [&](const Recipe& r, const char* label) {
    auto [p, o] = settings_of(r);
    return quantize_setting(cal, p, o, options.resident_budget, options.warm_budget, label);
  };

  // Held-out measurements: pruning fractions, recipe candidates and the baseline share one reference engine.
  const std::vector<double> fractions =
      fixed_prune < 0 ? std::vector<double>{0, 0.25, 0.5, 0.75, 0.85, 1} : std::vector<double>{fixed_prune};
  std::unique_ptr<HeldOut> held;
  if (fixed_prune < 0 || auto_recipe) {
    std::vector<int32_t> tokens(ids.begin() + long(n_calib), ids.end());
    if (tokens.size() > size_t(options.prune_tokens)) tokens.resize(size_t(options.prune_tokens));
    if (tokens.size() < 16) {
      note(callbacks,
           "no held-out text after the calibration tokens; measuring on the last calibration tokens instead");
      tokens.assign(calib_ids.end() - long(std::min(calib_ids.size(), size_t(options.prune_tokens))),
                    calib_ids.end());
    }
    held = std::make_unique<HeldOut>(*model, std::move(tokens), window, bos, options.threads, callbacks);
    clock.charge("held-out accuracy");  // building its reference engine
  }
  double baseline_kl = -1, target_kl = -1;  // target: what a setting must reach to match the baseline

  // Candidate 0: the settings as given.
  std::vector<RecipeCandidate> candidates(1);
  candidates[0].recipe = {policy.tail_percentile, weight_outliers};
  QuantizedModel q = quantize(candidates[0].recipe, "outlier counts");
  candidates[0].resident_bytes = q.budget.resident_bytes;
  size_t held_index = 0;  // the candidate whose linears q holds

  std::vector<AccuracyResult> pruning;  // per fraction, for the candidate held in q
  if (held) {
    pruning = held->measure(q.linears, fractions, "held-out", auto_recipe);
    if (auto_recipe) {
      baseline_kl = pruning.back().mean_kl;
      target_kl = options.recipe_margin * baseline_kl;
      pruning.pop_back();
    }
    clock.charge("held-out accuracy");
    candidates[0].measured = true;
    candidates[0].mean_kl = pruning[0].mean_kl;
  }

  // Recipe search, cheapest first, stopping at the first candidate that matches the baseline.
  RecipeDecision decision;
  if (auto_recipe) {
    decision = choose_recipe(candidates, target_kl, q.budget_bytes);
    if (!decision.meets_baseline) {
      note(callbacks,
           str("settings as given: held-out mean KL ", candidates[0].mean_kl, " > ", options.recipe_margin,
               " x per-block-32 baseline ", baseline_kl, ": trying recipes"));
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
          clock.charge("held-out accuracy");
          cand.measured = true;
          cand.mean_kl = m[0].mean_kl;
        }
        candidates.push_back(cand);
        decision = choose_recipe(candidates, target_kl, q.budget_bytes);
        if (decision.meets_baseline) break;
      }
    }
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
    if (pruning.empty()) {
      pruning = held->measure(linears, fractions, "pruning");
      clock.charge("held-out accuracy");
    }
    double limit = pruning[0].mean_kl * options.prune_budget;
    if (target_kl >= 0 && pruning[0].mean_kl <= target_kl) limit = std::min(limit, target_kl);
    applied = 0;
    report.prune_limit = limit;
    for (size_t i = 0; i < pruning.size(); ++i) {
      const bool ok = pruning[i].mean_kl <= limit + 1e-12;
      if (ok) applied = std::max(applied, fractions[i]);
    }
  }
  const int pruned = apply_pruning(linears, applied);

  PreparedSettings ps;
  ps.policy = settings_of(chosen).first;
  ps.per_channel_weights = lpo.per_channel_weights;
  ps.hot_share = options.hot_share;
  ps.weight_outlier_share = chosen.weight_outlier_share;
  ps.prune = fixed_prune < 0 ? std::string("auto") : str(fixed_prune);
  ps.prune_fraction = applied;
  ps.calibration_tokens = int(n_calib);
  ps.calibration_file = options.calibration_name;
  ps.resident_budget = options.resident_budget;
  ps.warm_budget = options.warm_budget;
  ps.recipe_mode = auto_recipe ? "auto" : "default";
  ps.recipe = decision.index == 0 ? "default" : chosen.name();
  ps.heldout_kl = candidates[decision.index].measured ? candidates[decision.index].mean_kl : -1;
  ps.heldout_baseline_kl = baseline_kl;
  write_prepared_gguf(*model, linears, ps, options.output_path);
  clock.charge("write");

  // The report.
  report.candidates = candidates;
  report.chosen = decision.index;
  report.meets_baseline = decision.meets_baseline;
  report.baseline_kl = baseline_kl;
  report.target_kl = target_kl;
  report.recipe = ps.recipe;
  report.chosen_recipe = chosen;
  report.fractions = fractions;
  report.pruning = pruning;
  report.prune_applied = applied;
  report.heldout_tokens = held ? held->tokens() : 0;
  report.pruned_paths = pruned;
  report.calibration_tokens = n_calib;
  double outliers = 0, covered = 0, warm_covered = 0;
  for (const PreparedLinear& L : linears) {
    outliers += double(L.outliers);
    covered += L.hot_coverage * double(L.outliers);
    for (int32_t k : L.warm_channels) warm_covered += double(L.channel_outliers[size_t(k)]);
    report.warm_bytes += L.warm_bytes();
    PreparedLinearSummary s;
    s.name = L.name();
    s.act_max = double(L.act_max);
    s.p999 = double(L.p999);
    s.clip = double(L.act_scale * 127.0f);
    s.max_over_clip = L.importance / 127.0;
    s.outlier_channels = L.outlier_channels;
    s.hot_channels = L.hot_channels.size();
    s.hot_coverage = L.hot_coverage;
    s.shadow = bool(L.shadow);
    report.hot_bytes += L.hot_bytes();
    report.linears.push_back(std::move(s));
  }
  report.int8_bytes = q.int8_bytes;
  report.budget_bytes = q.budget_bytes;
  report.requested_bytes = q.budget.requested_bytes;
  report.dropped_channels = q.budget.dropped_channels;
  report.budget_fits = q.budget.fits;
  report.hot_coverage_all = outliers > 0 ? covered / outliers : 1.0;
  report.warm_coverage_all = outliers > 0 ? (covered + warm_covered) / outliers : 1.0;
  report.warm_requested_bytes = q.warm.requested_bytes;
  report.seconds = now_seconds() - t0;
  return report;
}

}  // namespace llmnpu
