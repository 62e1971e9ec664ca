#pragma once
// `llmnpu bench` as a library call: prefill and decode rates of one or more models over prompt lengths,
// prompt sources (text, pseudo-random ids), processor topologies and schedules, each prefill rate also
// as a share of this machine's measured int8 roofline and each decode rate of its memory roofline.
// Results come back as rows (and through callbacks as they are measured); benchmark_json() gives them
// with llama-bench's field names where a field means the same.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/prefiller.h"
#include "runtime/trace.h"

namespace llmnpu {

// Where a benchmark prompt's tokens come from.
struct BenchPrompt {
  std::string source;  // shown in the rows: "text: NAME" or "pseudo-random ids"
  std::string text;    // tokenized and repeated to each length; empty = pseudo-random ids over the vocab
};
// A short English text built into the library (data/calibration.txt), for a text prompt without a file.
const std::string& builtin_prompt_text();
// The default prompts: the built-in text and pseudo-random ids (tokens calibration never saw).
std::vector<BenchPrompt> default_bench_prompts();

struct BenchmarkOptions {
  std::vector<std::string> models;  // a prepared model after a float one is compared with it
  std::string tokenizer;
  std::vector<int> prompt_lengths{128, 512, 1024, 2048};
  std::vector<BenchPrompt> prompts = default_bench_prompts();
  int n_gen = 32;
  int threads = 0;           // 0 = all cores
  bool check_memory = true;  // refuse a model the machine lacks the memory for (runtime/memory_estimate.h)
  int repetitions = 3;
  PrefillSettings prefill;  // chunk, hetero thread split, shadow placement; schedule and topology below
  std::vector<std::string> schedules{"ooo"};
  std::vector<std::string> topologies{"auto"};  // homo, hetero, auto (the one picked at load)
};

struct BenchMachine {
  int threads = 0;
  double peak_int8_gmacs = 0, peak_fp32_gmacs = 0, memory_read_gbs = 0, int8_gemm_gmacs = 0;
  std::string cpu, int8_instruction, fp32_instruction, int8_gemm_kernel;
};

struct BenchModel {
  std::string path, arch, weights;  // weights: which processor runs what
  int n_layers = 0, dim = 0;
  bool quantized = false;
  uint64_t file_bytes = 0, n_params = 0;
  double linear_macs_per_token = 0, int8_roofline_tps = 0, int8_gemm_roofline_tps = 0;
  double decode_bytes_per_token = 0, decode_roofline_tps = 0;
};

struct BenchShadow {  // prefill's shadow work per run (W8A8 models), medians over the repetitions
  double outlier_entries_per_token = 0;
  uint64_t hot_channel_hits = 0, cold_channel_hits = 0, rows_over_budget = 0;
};

struct BenchRow {
  size_t model = 0;  // index into BenchmarkReport::models
  int prompt_tokens = 0;
  std::string prompt_source;
  std::string schedule, topology;  // topology as the prefiller describes it
  bool homogeneous = false, picked_by_auto = false;
  std::vector<double> prefill_seconds, ttft_seconds, decode_tps;  // one per repetition
  double prefill_tps = 0, ttft_s = 0, decode_tps_median = 0;      // medians
  double peak_mib = 0;
  BenchShadow shadow;
  std::vector<LaneSummary> lanes;
  double float_prefill_tps = 0;  // the same configuration of a float model measured earlier (0: none)
  std::string float_model;
};

struct BenchComparison {  // homogeneous against heterogeneous, same model, length, source and schedule
  size_t model = 0;
  int prompt_tokens = 0;
  std::string prompt_source, schedule;
  double homogeneous_tps = 0, heterogeneous_tps = 0;
};

struct BenchmarkReport {
  BenchmarkOptions options;
  BenchMachine machine;
  std::vector<BenchModel> models;
  std::vector<BenchRow> rows;
  std::vector<BenchComparison> comparisons;
  double largest_peak_mib = 0;
  bool peak_per_configuration = false;  // false: peaks are the process lifetime's
};

struct BenchmarkCallbacks {
  std::function<void(const BenchMachine&)> on_machine;
  std::function<void(const BenchModel&)> on_model;
  // The report so far (options, models measured, earlier rows) with the row just appended to it.
  std::function<void(const BenchmarkReport&, const BenchRow&)> on_row;
  std::function<void(const BenchComparison&)> on_comparison;
};

// Checks every option and model path before measuring anything; throws Error with a clear message.
BenchmarkReport run_benchmark(const BenchmarkOptions& options, const BenchmarkCallbacks& callbacks = {});

// The whole report: machine, rows (with llama-bench's n_prompt, n_gen, n_threads, n_ubatch,
// model_filename, model_size, model_n_params, avg_ts, samples_ts ...), comparisons.
nlohmann::json benchmark_json(const BenchmarkReport& report);
// One record per test in llama-bench's JSON schema (a pp<N> prefill test and a tg<N> decode test per row).
nlohmann::json llama_bench_records(const BenchmarkReport& report);

}  // namespace llmnpu
