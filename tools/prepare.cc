// llmnpu prepare: float model + calibration text -> one prepared W8A8 GGUF with shadow outlier data.
// Steps: calibrate (two passes of the float reference over the text: statistics, then outlier counts
// at the chosen clip), quantize every fused linear, pick hot channels, choose how many shadow paths to
// prune (measured on held-out text after the calibration tokens), write. See docs/quantization.md.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "accuracy.h"
#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "command.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/timer.h"
#include "model_options.h"
#include "quant/prepared_model.h"
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

int prepare_command(int argc, char** argv) {
  CLI::App app{"Prepare a W8A8 model with shadow outlier execution (one GGUF file)."};
  app.name(argv[0]);
  ModelOptions mo;
  mo.add_to(app);
  std::string calib, output, method = "channel", granularity = "channel", prune = "auto";
  int calib_tokens = 4096, window = 512, prune_tokens = 512;
  ScalePolicy policy;
  policy.tail_percentile = 100;
  double hot_share = 0.8, prune_budget = 1.05, weight_outliers = 0.0;
  app.add_option("--calib", calib, "calibration text file")->required();
  app.add_option("-o,--output", output, "prepared GGUF to write")->required();
  app.add_option("--calib-tokens", calib_tokens, "calibration tokens (default 4096)")
      ->check(CLI::PositiveNumber);
  app.add_option("--calib-window", window, "tokens per calibration window (default 512)")
      ->check(CLI::Range(2, 1 << 20));
  app.add_option("--scale-method", method, "activation scale: channel (default), percentile, max");
  app.add_option("--percentile", policy.percentile, "percentile method: which percentile (default 99.9)")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--percentile-ratio", policy.ratio,
                 "percentile method: clip only if pXX * ratio <= max (default 64)");
  app.add_option("--channel-ratio", policy.channel_ratio,
                 "channel method: outlier channel if its max > ratio x median channel max (default 8)");
  app.add_option("--max-outlier-channels", policy.max_channel_share,
                 "channel method: at most this share of channels are outlier channels (default 0.02)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option(
         "--tail-percentile", policy.tail_percentile,
         "any method: clip at most this percentile of |x|, the shadow path takes the rest (default 100 "
         "= off; 99 for small models, see docs/quantization.md)")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--weight-granularity", granularity, "int8 weight scales: channel (default) or tensor");
  app.add_option(
         "--weight-outliers", weight_outliers,
         "share of each weight row kept as sparse float outliers outside the int8 matrix (default 0; 0.01 "
         "for small models, see docs/quantization.md)")
      ->check(CLI::Range(0.0, 0.5));
  app.add_option("--hot-share", hot_share,
                 "share of calibration outliers the hot channels cover (default 0.8)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--prune", prune, "shadow paths to drop: auto (default) or a fraction 0..1");
  app.add_option("--prune-budget", prune_budget,
                 "auto pruning: largest fraction whose held-out mean KL <= budget x unpruned (default 1.05)");
  app.add_option("--prune-tokens", prune_tokens, "held-out tokens for auto pruning (default 512)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  policy.method = parse_scale_method(method);
  check(granularity == "channel" || granularity == "tensor",
        "--weight-granularity must be channel or tensor");
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

  // Calibration, pass 1: statistics; choose scales; pass 2: outlier counts at the chosen clips.
  const size_t n = size_t(c.n_layers) * kSlotsPerLayer;
  std::vector<ActivationStats> stats;
  for (int l = 0; l < c.n_layers; ++l) {
    stats.emplace_back(c.dim);
    stats.emplace_back(c.q_dim());
    stats.emplace_back(c.dim);
    stats.emplace_back(c.ffn_dim);
  }
  run_calibration(*model, stats, RecordPass::Statistics, windows, context, mo.threads, "calibrate 1/2");
  std::vector<ScaleChoice> choices;
  for (auto& s : stats) {
    choices.push_back(choose_scale(s, policy));
    s.set_outlier_clip(choices.back().clip);
  }
  run_calibration(*model, stats, RecordPass::Outliers, windows, context, mo.threads, "calibrate 2/2");

  LinearPrepareOptions lpo;
  lpo.per_channel_weights = granularity == "channel";
  lpo.hot_share = hot_share;
  lpo.weight_outlier_share = weight_outliers;
  std::vector<PreparedLinear> linears;
  {
    ProgressBar bar("quantize", n, true);
    for (size_t i = 0; i < n; ++i) {
      const int layer = int(i / kSlotsPerLayer);
      const LinearSlot slot = LinearSlot(i % kSlotsPerLayer);
      std::vector<float> bias;
      std::vector<float> w = fused_weights(*model, layer, slot, &bias);
      const int in = stats[i].channels(), out = int(w.size() / size_t(in));
      linears.push_back(
          prepare_linear(layer, slot, w.data(), out, in, std::move(bias), stats[i], choices[i], lpo));
      bar.update(i + 1);
    }
  }

  // Pruning: a fixed fraction, or the most pruning whose held-out KL stays within the budget.
  double applied = fixed_prune;
  if (fixed_prune < 0) {
    std::vector<int32_t> held(ids.begin() + long(n_calib), ids.end());
    if (held.size() > size_t(prune_tokens)) held.resize(size_t(prune_tokens));
    if (held.size() < 16) {
      std::fprintf(stderr,
                   "note: no held-out text after the calibration tokens; measuring pruning on the last "
                   "calibration tokens instead\n");
      held.assign(calib_ids.end() - long(std::min(calib_ids.size(), size_t(prune_tokens))), calib_ids.end());
    }
    ModelGraph ref_graph = build_float_graph(*model);
    std::vector<Int8Linear*> ops;
    ModelGraph qgraph = build_prepared_graph(*model, linears, &ops);
    EngineOptions eo;
    eo.threads = mo.threads;
    eo.context = window;
    Engine ref(*model, ref_graph, eo), quant(*model, qgraph, eo);
    const double fractions[] = {0, 0.25, 0.5, 0.75, 0.85, 1};
    std::vector<AccuracyVariant> variants;
    for (double f : fractions)
      variants.push_back({str("prune ", f), &quant, [&, f] {
                            apply_pruning(linears, f);
                            for (size_t i = 0; i < n; ++i) ops[i]->set_shadow(linears[i].shadow);
                          }});
    std::vector<AccuracyResult> r;
    {
      ProgressBar bar("pruning", make_windows(held, window, bos).size(), true);
      r = compare_to_reference(ref, variants, held, window, bos, [&](int d, int) { bar.update(size_t(d)); });
    }
    const double limit = r[0].mean_kl * prune_budget;
    applied = 0;
    std::printf("auto pruning on %d held-out tokens (budget: mean KL <= %.3gx unpruned = %.4g):\n",
                r[0].tokens, prune_budget, limit);
    for (size_t i = 0; i < r.size(); ++i) {
      const bool ok = r[i].mean_kl <= limit + 1e-12;
      std::printf("  prune %.2f: mean KL %.4g  top-1 %.4f %s\n", fractions[i], r[i].mean_kl,
                  r[i].top1_agreement, ok ? "(within budget)" : "");
      if (ok) applied = std::max(applied, fractions[i]);
    }
  }
  const int pruned = apply_pruning(linears, applied);

  // Report.
  std::printf("\n%-14s %9s %9s %9s %9s %7s %6s %8s %7s\n", "linear", "max|x|", "p99.9", "clip", "max/clip",
              "outl.ch", "hot", "coverage", "shadow");
  size_t int8_bytes = 0, hot_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    const PreparedLinear& L = linears[i];
    int8_bytes += L.int8_bytes();
    hot_bytes += L.hot_bytes();
    std::printf("%-14s %9.3g %9.3g %9.3g %9.1f %7d %6zu %7.1f%% %7s\n", L.name().c_str(), double(L.act_max),
                double(L.p999), double(L.act_scale * 127.0f), L.importance / 127.0, L.outlier_channels,
                L.hot_channels.size(), 100.0 * L.hot_coverage, L.shadow ? "on" : "pruned");
  }
  PreparedSettings ps;
  ps.policy = policy;
  ps.per_channel_weights = lpo.per_channel_weights;
  ps.hot_share = hot_share;
  ps.weight_outlier_share = weight_outliers;
  ps.prune = prune;
  ps.prune_fraction = applied;
  ps.calibration_tokens = int(n_calib);
  ps.calibration_file = calib;
  write_prepared_gguf(*model, linears, ps, output);
  std::printf("\nscale method %s, weights per %s, %zu calibration tokens\n", scale_method_name(policy.method),
              granularity.c_str(), n_calib);
  std::printf("shadow paths pruned: %d of %zu (fraction %.2f)\n", pruned, n, applied);
  std::printf("resident shadow rows and weight outliers: %zu bytes = %.3f%% of the %zu int8 weight bytes\n",
              hot_bytes, int8_bytes ? 100.0 * double(hot_bytes) / double(int8_bytes) : 0.0, int8_bytes);
  std::printf("wrote %s in %.1f s, peak memory %.0f MiB\n", output.c_str(), now_seconds() - t0,
              peak_rss_mib());
  return 0;
}

Register reg("prepare", "prepare a W8A8 model with shadow outliers (-m MODEL --calib TEXT -o OUT.gguf)",
             prepare_command);

}  // namespace
}  // namespace llmnpu::cli
