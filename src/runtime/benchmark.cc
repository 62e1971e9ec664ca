#include "runtime/benchmark.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/timer.h"
#include "kernels/int8_gemm.h"
#include "kernels/peak_probe.h"
#include "model/loader.h"
#include "runtime/loaded_model.h"
#include "runtime/machine_probes.h"
#include "runtime/memory_estimate.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace llmnpu {
namespace {

uint64_t bytes_on_disk(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : uint64_t(size);
  }
  uint64_t total = 0;  // a Hugging Face folder: every file in it
  for (const auto& entry : fs::recursive_directory_iterator(path, ec))
    if (entry.is_regular_file(ec)) total += uint64_t(entry.file_size(ec));
  return total;
}

// Weights the config implies: embeddings, per-layer projections and norms, the final norm and an untied head.
uint64_t parameter_count(const ModelConfig& c) {
  const uint64_t dim = uint64_t(c.dim), q = uint64_t(c.n_heads) * uint64_t(c.head_dim),
                 kv = uint64_t(c.n_kv_heads) * uint64_t(c.head_dim), ffn = uint64_t(c.ffn_dim);
  uint64_t layer = dim * (q + 2 * kv) + q * dim + (c.ffn_gated ? 3 : 2) * dim * ffn + 2 * dim;
  if (c.qkv_bias) layer += q + 2 * kv;
  uint64_t total = uint64_t(c.vocab_size) * dim + uint64_t(c.n_layers) * layer + dim;
  if (!c.tied_output) total += uint64_t(c.vocab_size) * dim;
  return total;
}

// The text's tokens repeated to length, or pseudo-random ids spread over the whole vocabulary.
std::vector<int32_t> prompt_ids(const std::vector<int32_t>& text_ids, int len, int vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(len));
  for (int i = 0; i < len; ++i)
    ids[size_t(i)] = text_ids.empty() ? int32_t((uint64_t(i) * 2654435761u + 17) % uint64_t(vocab))
                                      : text_ids[size_t(i) % text_ids.size()];
  return ids;
}

void check_options(const BenchmarkOptions& o) {
  check(!o.models.empty(), "bench: give at least one model");
  check(!o.prompt_lengths.empty(), "bench: give at least one prompt length");
  for (int len : o.prompt_lengths) check(len > 0, "bench: prompt lengths must be positive (got ", len, ")");
  check(!o.prompts.empty(), "bench: give at least one prompt source");
  check(o.n_gen >= 0, "bench: tokens to generate cannot be negative");
  check(o.repetitions >= 1, "bench: at least one repetition");
  check(!o.schedules.empty() && !o.topologies.empty(), "bench: give a schedule and a topology");
  for (const auto& s : o.schedules)
    check(s == "sequential" || s == "pipeline" || s == "ooo", "bench: unknown schedule '", s,
          "' (sequential, pipeline, ooo)");
  for (const auto& t : o.topologies)
    check(t == "homo" || t == "hetero" || t == "auto", "bench: unknown topology '", t,
          "' (homo, hetero, auto)");
  // Every model must be a readable model file before the machine is measured (a typo fails at once).
  for (const std::string& path : o.models) detect_model_format(path);
}

BenchModel describe_model(const std::string& path, const LoadedModel& lm, const BenchMachine& machine) {
  const ModelConfig& c = lm.model->config;
  BenchModel m;
  m.path = path;
  m.arch = c.arch;
  m.weights = lm.graph->describe;
  m.n_layers = c.n_layers;
  m.dim = c.dim;
  m.quantized = lm.graph->quantized;
  m.file_bytes = bytes_on_disk(path);
  m.n_params = parameter_count(c);
  m.linear_macs_per_token = linear_macs_per_token(c);
  m.int8_roofline_tps = machine.peak_int8_gmacs * 1e9 / m.linear_macs_per_token;
  m.int8_gemm_roofline_tps = machine.int8_gemm_gmacs * 1e9 / m.linear_macs_per_token;
  // Decode streams every weight once per token: bandwidth / those bytes is its roofline.
  double bytes = double(lm.graph->head ? lm.graph->head->weight_bytes() : 0);
  for (const LayerLinears& l : lm.graph->layers)
    bytes += double(l.qkv->weight_bytes() + l.o->weight_bytes() + l.gate_up->weight_bytes() +
                    l.down->weight_bytes());
  m.decode_bytes_per_token = bytes;
  m.decode_roofline_tps = bytes > 0 ? machine.memory_read_gbs * 1e9 / bytes : 0;
  return m;
}

}  // namespace

std::vector<BenchPrompt> default_bench_prompts() {
  return {{"text: built-in", builtin_prompt_text()}, {"pseudo-random ids", ""}};
}

BenchmarkReport run_benchmark(const BenchmarkOptions& options, const BenchmarkCallbacks& callbacks) {
  check_options(options);
  const int max_len = *std::max_element(options.prompt_lengths.begin(), options.prompt_lengths.end());
  const int context = max_len + options.n_gen + 1;
  if (options.check_memory)  // every model before the probes: a refusal comes at once
    for (const std::string& path : options.models)
      check_memory(estimate_run_memory(path, context), "running '" + path + "'");
  BenchmarkReport report;
  report.options = options;
  report.peak_per_configuration = reset_peak_rss();

  BenchMachine& machine = report.machine;
  machine.threads = options.threads > 0 ? options.threads : ThreadPool::hardware_threads();
  machine.peak_int8_gmacs = measure_peak_gmacs(PeakKind::Int8Dot, machine.threads, 0.2);
  machine.peak_fp32_gmacs = measure_peak_gmacs(PeakKind::Fp32Fma, machine.threads, 0.2);
  machine.memory_read_gbs = measure_bandwidth_in_child(machine.threads);
  machine.int8_gemm_gmacs = measure_int8_gemm_gmacs(machine.threads, 0.3);
  machine.cpu = cpu_model_name();
  machine.int8_instruction = peak_instruction(PeakKind::Int8Dot);
  machine.fp32_instruction = peak_instruction(PeakKind::Fp32Fma);
  machine.int8_gemm_kernel = int8_kernel_name(best_int8_kernel());
  if (callbacks.on_machine) callbacks.on_machine(machine);

  for (const std::string& path : options.models) {
    ModelLoadOptions mo;
    mo.model_path = path;
    mo.tokenizer_path = options.tokenizer;
    mo.threads = options.threads;
    mo.context = context;
    mo.check_memory = false;  // checked above
    LoadedModel lm = load_for_inference(mo);
    Engine& engine = *lm.engine;
    const ModelConfig& c = lm.model->config;
    const size_t model_index = report.models.size();
    report.models.push_back(describe_model(path, lm, machine));
    if (callbacks.on_model) callbacks.on_model(report.models.back());
    const size_t first_row = report.rows.size();

    for (const std::string& topology : options.topologies) {
      std::vector<std::unique_ptr<Prefiller>> prefillers;
      for (const std::string& schedule : options.schedules) {
        PrefillSettings settings = options.prefill;
        settings.schedule = schedule;
        settings.topology = topology;
        engine.reset();
        prefillers.push_back(std::make_unique<Prefiller>(engine, settings, engine.pool().size()));
      }
      for (const BenchPrompt& prompt : options.prompts) {
        std::vector<int32_t> text_ids;
        if (!prompt.text.empty()) {
          check(lm.model->tokenizer != nullptr, "a text prompt needs a model with a tokenizer ('", path,
                "' has none)");
          text_ids = lm.model->tokenizer->encode(prompt.text, false);
          check(!text_ids.empty(), "the prompt text (", prompt.source, ") has no tokens");
        }
        for (int len : options.prompt_lengths) {
          const std::vector<int32_t> ids = prompt_ids(text_ids, len, c.vocab_size);
          std::vector<BenchRow> rows(options.schedules.size());
          std::vector<std::vector<double>> entries(rows.size()), hot(rows.size()), cold(rows.size()),
              over(rows.size());
          // Repetitions go round-robin over the schedules, so a slow stretch of a shared machine slows them
          // all alike instead of whichever schedule happened to run then. r == 0 warms up.
          for (int r = 0; r <= options.repetitions; ++r) {
            for (size_t si = 0; si < rows.size(); ++si) {
              BenchRow& row = rows[si];
              engine.reset();
              Trace trace;
              if (report.peak_per_configuration) reset_peak_rss();
              const ShadowTotals before = shadow_totals(*lm.graph);
              const double t0 = now_seconds();
              std::vector<float> logits = prefillers[si]->run(ids, &trace);
              const double t1 = now_seconds();
              const ShadowTotals after = shadow_totals(*lm.graph);
              int32_t next = argmax(logits.data(), c.vocab_size);
              const double t2 = now_seconds();
              for (int g = 0; g < options.n_gen; ++g) next = argmax(engine.decode(next).data(), c.vocab_size);
              const double t3 = now_seconds();
              if (r == 0) continue;
              row.peak_mib = std::max(
                  row.peak_mib, report.peak_per_configuration ? peak_rss_since_reset_mib() : peak_rss_mib());
              row.prefill_seconds.push_back(t1 - t0);
              row.ttft_seconds.push_back(t2 - t0);
              if (options.n_gen > 0) row.decode_tps.push_back(options.n_gen / (t3 - t2));
              row.lanes = trace.summarize();
              const double linears = std::max(1, after.shadowed_linears);
              entries[si].push_back(double(after.entries - before.entries) / len / linears);
              hot[si].push_back(double(after.hot - before.hot));
              cold[si].push_back(double(after.cold - before.cold));
              over[si].push_back(double(after.fallback_rows - before.fallback_rows));
            }
          }
          for (size_t si = 0; si < rows.size(); ++si) {
            BenchRow& row = rows[si];
            const Prefiller& prefiller = *prefillers[si];
            row.model = model_index;
            row.prompt_tokens = len;
            row.prompt_source = prompt.source;
            row.schedule = options.schedules[si];
            row.topology = prefiller.describe();
            row.homogeneous = prefiller.topology().homogeneous;
            row.picked_by_auto = topology == "auto";
            row.prefill_tps = len / median(row.prefill_seconds);
            row.ttft_s = median(row.ttft_seconds);
            row.decode_tps_median = row.decode_tps.empty() ? 0 : median(row.decode_tps);
            row.shadow.outlier_entries_per_token = median(entries[si]);
            row.shadow.hot_channel_hits = uint64_t(median(hot[si]));
            row.shadow.cold_channel_hits = uint64_t(median(cold[si]));
            row.shadow.rows_over_budget = uint64_t(median(over[si]));
            report.largest_peak_mib = std::max(report.largest_peak_mib, row.peak_mib);
            // A prepared model is compared with a float model measured earlier in the same configuration.
            if (lm.graph->quantized)
              for (const BenchRow& f : report.rows)
                if (!report.models[f.model].quantized && f.prompt_tokens == len &&
                    f.prompt_source == prompt.source && f.schedule == row.schedule &&
                    f.homogeneous == row.homogeneous) {
                  row.float_prefill_tps = f.prefill_tps;
                  row.float_model = report.models[f.model].path;
                  break;
                }
            report.rows.push_back(row);
            if (callbacks.on_row) callbacks.on_row(report, report.rows.back());
          }
        }
      }
    }
    // Which topology is faster on this machine, per prompt length, source and schedule (when both ran).
    for (size_t a = first_row; a < report.rows.size(); ++a) {
      const BenchRow& homo = report.rows[a];
      if (!homo.homogeneous || homo.picked_by_auto) continue;
      for (size_t b = first_row; b < report.rows.size(); ++b) {
        const BenchRow& hetero = report.rows[b];
        if (hetero.homogeneous || hetero.picked_by_auto || hetero.prompt_tokens != homo.prompt_tokens ||
            hetero.schedule != homo.schedule || hetero.prompt_source != homo.prompt_source)
          continue;
        report.comparisons.push_back({model_index, homo.prompt_tokens, homo.prompt_source, homo.schedule,
                                      homo.prefill_tps, hetero.prefill_tps});
        if (callbacks.on_comparison) callbacks.on_comparison(report.comparisons.back());
        break;
      }
    }
  }
  return report;
}

namespace {

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

std::string iso_time() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string model_type(const BenchModel& m) { return m.arch + (m.quantized ? " W8A8" : " F32"); }

const char* kBackend = "CPU (no NPU: the accelerator role runs integer kernels on CPU cores)";

}  // namespace

nlohmann::json benchmark_json(const BenchmarkReport& report) {
  using nlohmann::json;
  const BenchMachine& m = report.machine;
  json rows = json::array(), comparisons = json::array(), versus_float = json::array();
  for (const BenchRow& r : report.rows) {
    const BenchModel& model = report.models[r.model];
    json lanes = json::array();
    for (const auto& l : r.lanes)
      lanes.push_back(
          {{"processor", l.name}, {"busy_share", l.busy_share}, {"bubble_share", l.bubble_share}});
    std::vector<double> prefill_ns;
    for (double s : r.prefill_seconds) prefill_ns.push_back(s * 1e9);
    rows.push_back(
        {{"model", model.path},
         {"model_filename", model.path},
         {"model_type", model_type(model)},
         {"model_size", model.file_bytes},
         {"model_n_params", model.n_params},
         {"weights", model.weights},
         {"prompt_tokens", r.prompt_tokens},
         {"n_prompt", r.prompt_tokens},
         {"prompt_source", r.prompt_source},
         {"generated_tokens", report.options.n_gen},
         {"n_gen", report.options.n_gen},
         {"threads", m.threads},
         {"n_threads", m.threads},
         {"chunk", report.options.prefill.chunk},
         {"n_ubatch", report.options.prefill.chunk},
         {"schedule", r.schedule},
         {"topology", r.topology},
         {"prefill_tokens_per_second", r.prefill_tps},
         {"prefill_samples_ts",
          [&] {
            std::vector<double> ts;
            for (double s : r.prefill_seconds) ts.push_back(r.prompt_tokens / s);
            return ts;
          }()},
         {"prefill_samples_ns", prefill_ns},
         {"time_to_first_token_s", r.ttft_s},
         {"decode_tokens_per_second", r.decode_tps_median},
         {"decode_samples_ts", r.decode_tps},
         {"peak_memory_mib", r.peak_mib},
         {"peak_memory_scope", report.peak_per_configuration ? "this configuration" : "process lifetime"},
         {"int8_roofline_tokens_per_second", model.int8_roofline_tps},
         {"prefill_share_of_int8_roofline", r.prefill_tps / model.int8_roofline_tps},
         {"int8_gemm_roofline_tokens_per_second", model.int8_gemm_roofline_tps},
         {"prefill_share_of_int8_gemm_roofline", r.prefill_tps / model.int8_gemm_roofline_tps},
         {"decode_bytes_per_token", model.decode_bytes_per_token},
         {"decode_memory_roofline_tokens_per_second", model.decode_roofline_tps},
         {"decode_share_of_memory_roofline",
          model.decode_roofline_tps > 0 ? r.decode_tps_median / model.decode_roofline_tps : 0.0},
         {"shadow",
          {{"outlier_entries_per_token_per_linear", r.shadow.outlier_entries_per_token},
           {"hot_channel_hits", r.shadow.hot_channel_hits},
           {"cold_channel_hits", r.shadow.cold_channel_hits},
           {"rows_over_budget", r.shadow.rows_over_budget}}},
         {"lanes", lanes},
         {"repetitions", report.options.repetitions}});
    if (r.float_prefill_tps > 0)
      versus_float.push_back({{"model", model.path},
                              {"float_model", r.float_model},
                              {"prompt_tokens", r.prompt_tokens},
                              {"prompt_source", r.prompt_source},
                              {"schedule", r.schedule},
                              {"topology", r.topology},
                              {"prefill_tokens_per_second", r.prefill_tps},
                              {"float_prefill_tokens_per_second", r.float_prefill_tps},
                              {"ratio", r.prefill_tps / r.float_prefill_tps}});
  }
  for (const BenchComparison& c : report.comparisons)
    comparisons.push_back(
        {{"model", report.models[c.model].path},
         {"prompt_tokens", c.prompt_tokens},
         {"prompt_source", c.prompt_source},
         {"schedule", c.schedule},
         {"homogeneous_tokens_per_second", c.homogeneous_tps},
         {"heterogeneous_tokens_per_second", c.heterogeneous_tps},
         {"faster", c.homogeneous_tps >= c.heterogeneous_tps ? "homogeneous" : "heterogeneous"}});
  return {{"machine",
           {{"cpu", m.cpu},
            {"threads", m.threads},
            {"peak_int8_gmacs", m.peak_int8_gmacs},
            {"peak_fp32_gmacs", m.peak_fp32_gmacs},
            {"memory_read_gbs", m.memory_read_gbs},
            {"int8_instruction", m.int8_instruction},
            {"int8_gemm_gmacs", m.int8_gemm_gmacs},
            {"int8_gemm_kernel", m.int8_gemm_kernel},
            {"note", "no NPU: the accelerator role runs integer kernels on CPU cores"}}},
          {"results", rows},
          {"topology_comparison", comparisons},
          {"prepared_versus_float", versus_float}};
}

nlohmann::json llama_bench_records(const BenchmarkReport& report) {
  nlohmann::json out = nlohmann::json::array();
  const std::string when = iso_time();
  for (const BenchRow& r : report.rows) {
    const BenchModel& model = report.models[r.model];
    auto record = [&](int n_prompt, int n_gen, const std::vector<double>& seconds) {
      std::vector<double> ns, ts;
      for (double s : seconds) {
        ns.push_back(s * 1e9);
        ts.push_back((n_prompt + n_gen) / s);
      }
      return nlohmann::json{{"model_filename", model.path},
                            {"model_type", model_type(model)},
                            {"model_size", model.file_bytes},
                            {"model_n_params", model.n_params},
                            {"backends", kBackend},
                            {"cpu_info", report.machine.cpu},
                            {"int8_kernel", report.machine.int8_gemm_kernel},
                            {"n_threads", report.machine.threads},
                            {"n_ubatch", report.options.prefill.chunk},
                            {"n_prompt", n_prompt},
                            {"n_gen", n_gen},
                            {"test_time", when},
                            {"avg_ns", mean(ns)},
                            {"stddev_ns", stddev(ns)},
                            {"avg_ts", mean(ts)},
                            {"stddev_ts", stddev(ts)},
                            {"samples_ns", ns},
                            {"samples_ts", ts},
                            {"prompt_source", r.prompt_source},
                            {"schedule", r.schedule},
                            {"topology", r.topology}};
    };
    out.push_back(record(r.prompt_tokens, 0, r.prefill_seconds));
    if (!r.decode_tps.empty()) {
      std::vector<double> seconds;
      for (double tps : r.decode_tps) seconds.push_back(report.options.n_gen / tps);
      out.push_back(record(0, report.options.n_gen, seconds));
    }
  }
  return out;
}

}  // namespace llmnpu
