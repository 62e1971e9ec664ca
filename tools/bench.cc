// llmnpu bench: prefill and decode speed over prompt lengths, prompt sources, topologies and schedules,
// with the prefill rate as a share of this machine's measured int8 roofline (runtime/benchmark.h).

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "command.h"
#include "core/error.h"
#include "core/printable.h"
#include "flags.h"
#include "model_options.h"
#include "runtime/benchmark.h"

namespace llmnpu::cli {
namespace {

std::vector<int> parse_lengths(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      int v = std::stoi(item, &used);
      check(used == item.size() && v > 0 && v <= kMaxTokensFlag, "");
      out.push_back(v);
    } catch (...) {
      fail("--n-prompt: each prompt length must be an integer from 1 to ", kMaxTokensFlag, " (got '", item,
           "'; e.g. 128,512,1024)");
    }
  }
  check(!out.empty(), "-p needs at least one prompt length");
  return out;
}

// A comma-separated list of names from `all` ("all" = every one of them).
std::vector<std::string> parse_names(const std::string& flag, const std::string& s,
                                     const std::vector<std::string>& all) {
  if (s == "all") return all;
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  std::string names;
  for (const auto& a : all) names += (names.empty() ? "" : ", ") + a;
  for (const auto& x : out)
    check(std::find(all.begin(), all.end(), x) != all.end(), flag, ": unknown value '", x, "' (", names, ")");
  check(!out.empty(), flag, " needs at least one of ", names);
  return out;
}

void print_row(const BenchmarkReport& report, const BenchRow& r) {
  const BenchModel& m = report.models[r.model];
  std::string lanes;
  for (const auto& l : r.lanes)
    lanes +=
        str(" | ", l.name, " busy ", int(l.busy_share * 100), "% bubble ", int(l.bubble_share * 100), "%");
  std::string shadow;
  if (m.quantized)
    shadow = str(" | shadow: ", fixed(r.shadow.outlier_entries_per_token, 2), " entries/token/linear, ",
                 r.shadow.hot_channel_hits, " hot and ", r.shadow.cold_channel_hits, " cold channel hits, ",
                 r.shadow.rows_over_budget, " rows over budget");
  std::printf(
      "  pp%-5d %-18s %-10s %-58s prefill %8.1f tok/s (%4.1f%% of roofline, %4.1f%% of the GEMM's) ttft "
      "%7.3f s | tg%d %6.1f tok/s (%4.1f%% of memory roofline) peak %.0f MiB%s%s\n",
      r.prompt_tokens, r.prompt_source.c_str(), r.schedule.c_str(), r.topology.c_str(), r.prefill_tps,
      100 * r.prefill_tps / m.int8_roofline_tps, 100 * r.prefill_tps / m.int8_gemm_roofline_tps, r.ttft_s,
      report.options.n_gen, r.decode_tps_median,
      m.decode_roofline_tps > 0 ? 100 * r.decode_tps_median / m.decode_roofline_tps : 0.0, r.peak_mib,
      lanes.c_str(), shadow.c_str());
  if (r.float_prefill_tps > 0)
    std::printf("  pp%-5d %-18s %-10s prefill %.2fx the float model %s (%.1f vs %.1f tok/s, same run)\n",
                r.prompt_tokens, r.prompt_source.c_str(), r.schedule.c_str(),
                r.prefill_tps / r.float_prefill_tps, r.float_model.c_str(), r.prefill_tps,
                r.float_prefill_tps);
  std::fflush(stdout);
}

int bench_command(int argc, char** argv) {
  CLI::App app{
      "Benchmark prefill and decode: tokens/s, time to first token, peak memory, share of int8 roofline. By "
      "default each length is measured on a text prompt and on pseudo-random ids, as separate rows."};
  app.name(argv[0]);
  BenchmarkOptions o;
  std::string prompts = "128,512,1024,2048", output = "text", schedules = "ooo", topologies = "auto",
              prompt_file, sources = "text,random";
  app.add_option("-m,--model", o.models,
                 "model file(s); several -m are benchmarked in one run, and a prepared model after a float "
                 "one is compared with it")
      ->required();
  app.add_option("--tokenizer", o.tokenizer, "tokenizer to use instead of the model's");
  app.add_flag_function(
      "--no-memory-check", [&o](int64_t) { o.check_memory = false; },
      "load even when a model's estimated memory exceeds what the machine has (docs/memory.md)");
  app.add_option("-p,--n-prompt", prompts, "prompt lengths, comma separated (default 128,512,1024,2048)");
  app.add_option("-f,--file", prompt_file,
                 "text prompt: this file's tokens, repeated as needed (default: the built-in English text, "
                 "data/calibration.txt)");
  app.add_option("--prompts", sources,
                 "prompt sources, comma separated: text (the -f file or the built-in text) and random "
                 "(pseudo-random ids spread over the whole vocabulary) (default text,random)");
  app.add_option("-n,--n-gen", o.n_gen, "tokens to decode after each prompt (default 32)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_option("-t,--threads", o.threads, "threads (default: all cores)")->check(thread_count());
  app.add_option("-r,--repetitions", o.repetitions, "repetitions; medians are reported (default 3)")
      ->check(integer_in(1, 1000));
  app.add_option("--chunk,-u,--ubatch-size", o.prefill.chunk,
                 "prefill chunk length (default 256; 0 = one chunk)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_option("--schedule", schedules, "sequential,pipeline,ooo or all (default ooo)");
  app.add_option("--topology", topologies,
                 "homo,hetero,auto (comma separated) or all = homo,hetero; with both, which is faster is "
                 "printed (default auto: the one picked at load)");
  app.add_option("--npu-threads", o.prefill.npu_threads, "hetero: accelerator-role threads")
      ->check(thread_count());
  app.add_option("--cpu-threads", o.prefill.cpu_threads, "hetero: host-role threads")->check(thread_count());
  app.add_option("--shadow", o.prefill.shadow,
                 "hetero: where int8 linears' shadow work runs: host (default) or inline")
      ->check(CLI::IsMember({"host", "inline"}));
  app.add_option("-o,--output", output,
                 "text, json (the whole report) or jsonl (one llama-bench record per test and line)")
      ->check(CLI::IsMember({"text", "json", "jsonl"}));
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  o.prompt_lengths = parse_lengths(prompts);
  o.schedules = parse_names("--schedule", schedules, {"sequential", "pipeline", "ooo"});
  // "all" measures both topologies; "auto" (alone or in a list) adds the one auto picks at load.
  o.topologies = topologies == "all" ? std::vector<std::string>{"homo", "hetero"}
                                     : parse_names("--topology", topologies, {"homo", "hetero", "auto"});
  o.prompts.clear();
  for (const std::string& source : parse_names("--prompts", sources, {"text", "random"})) {
    if (source == "random") {
      o.prompts.push_back({"pseudo-random ids", ""});
    } else if (prompt_file.empty()) {
      o.prompts.push_back(default_bench_prompts().front());
    } else {
      const std::string text = read_text_file(prompt_file);
      check(!text.empty(), "-f: '", prompt_file, "' is empty");
      o.prompts.push_back({"text: " + prompt_file, text});
    }
  }
  check(prompt_file.empty() || sources.find("text") != std::string::npos || sources == "all",
        "-f gives a text prompt, but --prompts leaves text out");

  const bool text = output == "text";
  BenchmarkCallbacks cb;
  if (text) {
    cb.on_machine = [](const BenchMachine& m) {
      std::printf(
          "machine: %s, %d threads, measured peak %.0f int8 GMAC/s (%s), %.0f fp32 GMAC/s (%s), memory read "
          "%.1f "
          "GB/s; the int8 GEMM (%s, M=256 K=896 N=4864) runs at %.0f GMAC/s. Processors: CPU cores (no NPU: "
          "the accelerator role runs integer kernels on them)\n",
          m.cpu.c_str(), m.threads, m.peak_int8_gmacs, m.int8_instruction.c_str(), m.peak_fp32_gmacs,
          m.fp32_instruction.c_str(), m.memory_read_gbs, m.int8_gemm_kernel.c_str(), m.int8_gemm_gmacs);
    };
    cb.on_model = [](const BenchModel& m) {
      std::printf(
          "\nmodel %s: %s, %d layers, dim %d | %s | int8 roofline %.0f tokens/s (%.0f M linear MACs/token; "
          "%.0f tokens/s at the int8 GEMM's own rate) | decode roofline %.1f tokens/s (%.0f MB of weights "
          "per "
          "token)\n",
          m.path.c_str(), m.arch.c_str(), m.n_layers, m.dim, m.weights.c_str(), m.int8_roofline_tps,
          m.linear_macs_per_token / 1e6, m.int8_gemm_roofline_tps, m.decode_roofline_tps,
          m.decode_bytes_per_token / 1e6);
    };
    cb.on_row = print_row;
    cb.on_comparison = [](const BenchComparison& c) {
      const bool homo_faster = c.homogeneous_tps >= c.heterogeneous_tps;
      std::printf(
          "  pp%-5d %-18s %-10s faster here: %s (homogeneous %.1f vs heterogeneous %.1f tok/s, %+.1f%%)\n",
          c.prompt_tokens, c.prompt_source.c_str(), c.schedule.c_str(),
          homo_faster ? "homogeneous" : "heterogeneous", c.homogeneous_tps, c.heterogeneous_tps,
          100.0 * (std::max(c.homogeneous_tps, c.heterogeneous_tps) /
                       std::min(c.homogeneous_tps, c.heterogeneous_tps) -
                   1.0));
    };
  }
  const BenchmarkReport report = run_benchmark(o, cb);
  if (text) {
    std::printf("peak memory %.0f MiB (the largest of the configurations above, model loaded).\n",
                report.largest_peak_mib);
  } else if (output == "json") {
    std::printf("%s\n", benchmark_json(report).dump().c_str());
  } else {
    for (const auto& record : llama_bench_records(report)) std::printf("%s\n", record.dump().c_str());
  }
  return 0;
}

Register reg(
    "bench",
    "benchmark prefill/decode speed on text and random prompts (-m MODEL -p 128,512,1024 -n 32 [-o json])",
    bench_command);

}  // namespace
}  // namespace llmnpu::cli
