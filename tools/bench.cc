// llmnpu bench: prefill and decode speed over prompt lengths, topologies and schedules, with the
// prefill rate as a share of this machine's measured int8 roofline.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "command.h"
#include "core/error.h"
#include "core/timer.h"
#include "flags.h"
#include "kernels/int8_gemm.h"
#include "kernels/peak_probe.h"
#include "model/loader.h"
#include "model_options.h"
#include "prefill_options.h"
#include "runtime/machine_probes.h"
#include "runtime/sampler.h"

namespace llmnpu::cli {
namespace {

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      int v = std::stoi(item, &used);
      check(used == item.size() && v > 0 && v <= cli::kMaxTokensFlag, "");
      out.push_back(v);
    } catch (...) {
      fail("--n-prompt: each prompt length must be an integer from 1 to ", cli::kMaxTokensFlag, " (got '",
           item, "'; e.g. 128,512,1024)");
    }
  }
  check(!out.empty(), "-p needs at least one prompt length");
  return out;
}

int bench_command(int argc, char** argv) {
  CLI::App app{
      "Benchmark prefill and decode: tokens/s, time to first token, peak memory, share of int8 roofline."};
  app.name(argv[0]);
  std::vector<std::string> models;
  std::string tokenizer, prompts = "128,512,1024,2048", output = "text", schedules = "ooo",
                         topologies = "auto", prompt_file;
  int n_gen = 32, threads = 0, reps = 3;
  PrefillOptions po;
  app.add_option("-m,--model", models,
                 "model file(s); several -m are benchmarked in one run, and a prepared model after a float "
                 "one is compared with it")
      ->required();
  app.add_option("-p,--n-prompt", prompts, "prompt lengths, comma separated (default 128,512,1024,2048)");
  app.add_option("-f,--file", prompt_file,
                 "take the prompt tokens from this text file (repeated as needed; default: pseudo-random ids "
                 "spread over the whole vocabulary)");
  app.add_option("-n,--n-gen", n_gen, "tokens to decode after each prompt (default 32)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_option("-t,--threads", threads, "threads (default: all cores)")->check(thread_count());
  app.add_option("-r,--repetitions", reps, "repetitions; medians are reported (default 3)")
      ->check(integer_in(1, 1000));
  app.add_option("--chunk", po.chunk, "prefill chunk length (default 256; 0 = one chunk)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_option("--schedule", schedules, "sequential,pipeline,ooo or all (default ooo)");
  app.add_option("--topology", topologies,
                 "homo,hetero,auto (comma separated) or all = homo,hetero; with both, which is faster is "
                 "printed (default auto: the one picked at load)");
  app.add_option("--npu-threads", po.npu_threads, "hetero: accelerator-role threads")->check(thread_count());
  app.add_option("--cpu-threads", po.cpu_threads, "hetero: host-role threads")->check(thread_count());
  app.add_option("--shadow", po.shadow,
                 "hetero: where int8 linears' shadow work runs: host (default) or inline")
      ->check(CLI::IsMember({"host", "inline"}));
  app.add_option("-o,--output", output, "text or json")->check(CLI::IsMember({"text", "json"}));
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  std::vector<int> lengths = parse_list(prompts);
  const std::string prompt_text = prompt_file.empty() ? std::string() : read_text_file(prompt_file);
  check(prompt_file.empty() || !prompt_text.empty(), "-f: '", prompt_file, "' is empty");
  auto split = [](const std::string& s, const std::vector<std::string>& all) {
    if (s == "all") return all;
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
      if (!item.empty()) out.push_back(item);
    for (const auto& x : out)
      check(std::find(all.begin(), all.end(), x) != all.end(), "unknown value '", x, "'");
    return out;
  };
  std::vector<std::string> schedule_list = split(schedules, {"sequential", "pipeline", "ooo"});
  // "all" measures both topologies; "auto" (alone or in a list) adds the one auto picks at load.
  std::vector<std::string> topology_list = topologies == "all"
                                               ? std::vector<std::string>{"homo", "hetero"}
                                               : split(topologies, {"homo", "hetero", "auto"});
  // Every model must be a readable model file before the machine is measured (a typo fails at once).
  for (const std::string& path : models) detect_model_format(path);
  const bool per_run_peak = reset_peak_rss();
  double largest_peak_mib = 0;

  int hw_threads = threads > 0 ? threads : ThreadPool::hardware_threads();
  double peak_int8 = measure_peak_gmacs(PeakKind::Int8Dot, hw_threads, 0.2);
  double peak_fp32 = measure_peak_gmacs(PeakKind::Fp32Fma, hw_threads, 0.2);
  double bandwidth = measure_bandwidth_in_child(hw_threads);
  const double gemm_int8 = measure_int8_gemm_gmacs(hw_threads, 0.3);
  bool text = output == "text";
  if (text)
    std::printf(
        "machine: %d threads, measured peak %.0f int8 GMAC/s (%s), %.0f fp32 GMAC/s (%s), memory read %.1f "
        "GB/s; the int8 GEMM (%s, M=256 K=896 N=4864) runs at %.0f GMAC/s\n",
        hw_threads, peak_int8, peak_instruction(PeakKind::Int8Dot), peak_fp32,
        peak_instruction(PeakKind::Fp32Fma), bandwidth, int8_kernel_name(best_int8_kernel()), gemm_int8);

  nlohmann::json results = nlohmann::json::array(), comparisons = nlohmann::json::array(),
                 versus_float = nlohmann::json::array();
  // Prefill of every float model measured in this run, by (prompt, schedule, homogeneous): what the
  // prepared models are compared with (the "3x the float reference path, in the same run").
  struct FloatRate {
    std::string model;
    int len;
    std::string sched;
    bool homogeneous;
    double tps;
  };
  std::vector<FloatRate> float_rates;
  int max_len = *std::max_element(lengths.begin(), lengths.end());
  for (const std::string& path : models) {
    ModelOptions mo;
    mo.model_path = path;
    mo.tokenizer_path = tokenizer;
    mo.threads = threads;
    mo.context = max_len + n_gen + 1;
    LoadedModel lm = load_for_inference(mo);
    Engine& engine = *lm.engine;
    const ModelConfig& c = lm.model->config;
    double macs = linear_macs_per_token(c);
    double roofline_tps = peak_int8 * 1e9 / macs;
    const double gemm_roofline_tps = gemm_int8 * 1e9 / macs;
    // Decode streams every weight once per token: bandwidth / those bytes is its roofline.
    double decode_bytes = double(lm.graph->head ? lm.graph->head->weight_bytes() : 0);
    for (const LayerLinears& l : lm.graph->layers)
      decode_bytes += double(l.qkv->weight_bytes() + l.o->weight_bytes() + l.gate_up->weight_bytes() +
                             l.down->weight_bytes());
    double decode_roofline_tps = bandwidth * 1e9 / decode_bytes;
    if (text)
      std::printf(
          "\nmodel %s: %s, %d layers, dim %d | %s | int8 roofline %.0f tokens/s (%.0f M linear MACs/token; "
          "%.0f tokens/s at the int8 GEMM's own rate) | decode roofline %.1f tokens/s (%.0f MB of weights "
          "per "
          "token)\n",
          path.c_str(), c.arch.c_str(), c.n_layers, c.dim, lm.graph->describe.c_str(), roofline_tps,
          macs / 1e6, gemm_roofline_tps, decode_roofline_tps, decode_bytes / 1e6);
    struct Measured {
      std::string topology;  // as described by the prefiller
      bool picked_by_auto;   // repeats one of the named topologies: left out of the comparison
      bool homogeneous;
      int len;
      std::string sched;
      double prefill_tps;
    };
    std::vector<Measured> measured;
    for (const std::string& topo : topology_list) {
      std::vector<std::unique_ptr<Prefiller>> prefillers;
      for (const std::string& sched : schedule_list) {
        PrefillOptions opt = po;
        opt.schedule = sched;
        opt.topology = topo;
        engine.reset();
        prefillers.push_back(std::make_unique<Prefiller>(engine, opt, engine.pool().size()));
      }
      // The prompt: the file's tokens repeated to length, or pseudo-random ids over the vocabulary.
      std::vector<int32_t> text_ids;
      if (!prompt_text.empty()) {
        check(lm.model->tokenizer != nullptr, "-f needs a model with a tokenizer ('", path, "' has none)");
        text_ids = lm.model->tokenizer->encode(prompt_text, false);
        check(!text_ids.empty(), "-f: '", prompt_file, "' has no tokens");
      }
      for (int len : lengths) {
        std::vector<int32_t> ids(static_cast<size_t>(len));
        for (int i = 0; i < len; ++i)
          ids[size_t(i)] = text_ids.empty()
                               ? int32_t((uint64_t(i) * 2654435761u + 17) % uint64_t(c.vocab_size))
                               : text_ids[size_t(i) % text_ids.size()];
        struct Samples {
          std::vector<double> prefill_s, ttft_s, decode_tps;
          std::vector<LaneSummary> lanes;
          double peak_mib = 0;
        };
        std::vector<Samples> samples(schedule_list.size());
        // Repetitions go round-robin over the schedules, so a slow stretch of a shared machine slows them
        // all alike instead of whichever schedule happened to run then. r == 0 warms up.
        for (int r = 0; r <= reps; ++r) {
          for (size_t si = 0; si < schedule_list.size(); ++si) {
            Samples& out = samples[si];
            engine.reset();
            Trace trace;
            if (per_run_peak) reset_peak_rss();
            double t0 = now_seconds();
            std::vector<float> logits = prefillers[si]->run(ids, &trace);
            double t1 = now_seconds();
            int32_t next = argmax(logits.data(), c.vocab_size);
            double t2 = now_seconds();
            for (int g = 0; g < n_gen; ++g) next = argmax(engine.decode(next).data(), c.vocab_size);
            double t3 = now_seconds();
            if (r == 0) continue;
            out.peak_mib = std::max(out.peak_mib, per_run_peak ? peak_rss_since_reset_mib() : peak_rss_mib());
            largest_peak_mib = std::max(largest_peak_mib, out.peak_mib);
            out.prefill_s.push_back(t1 - t0);
            out.ttft_s.push_back(t2 - t0);
            if (n_gen > 0) out.decode_tps.push_back(n_gen / (t3 - t2));
            out.lanes = trace.summarize();
          }
        }
        for (size_t si = 0; si < schedule_list.size(); ++si) {
          const std::string& sched = schedule_list[si];
          const Prefiller& prefiller = *prefillers[si];
          const Samples& got = samples[si];
          double p_tps = len / median(got.prefill_s);
          double d_tps = median(got.decode_tps);
          nlohmann::json row = {
              {"model", path},
              {"weights", lm.graph->describe},
              {"prompt_tokens", len},
              {"prompt_source",
               prompt_file.empty() ? std::string("pseudo-random ids") : "text: " + prompt_file},
              {"generated_tokens", n_gen},
              {"threads", hw_threads},
              {"chunk", po.chunk},
              {"schedule", sched},
              {"topology", prefiller.describe()},
              {"prefill_tokens_per_second", p_tps},
              {"time_to_first_token_s", median(got.ttft_s)},
              {"decode_tokens_per_second", d_tps},
              {"peak_memory_mib", got.peak_mib},
              {"peak_memory_scope", per_run_peak ? "this configuration" : "process lifetime"},
              {"int8_roofline_tokens_per_second", roofline_tps},
              {"prefill_share_of_int8_roofline", p_tps / roofline_tps},
              {"int8_gemm_roofline_tokens_per_second", gemm_roofline_tps},
              {"prefill_share_of_int8_gemm_roofline", p_tps / gemm_roofline_tps},
              {"decode_bytes_per_token", decode_bytes},
              {"decode_memory_roofline_tokens_per_second", decode_roofline_tps},
              {"decode_share_of_memory_roofline", d_tps / decode_roofline_tps},
              {"repetitions", reps}};
          nlohmann::json lane_json = nlohmann::json::array();
          for (const auto& l : got.lanes)
            lane_json.push_back(
                {{"processor", l.name}, {"busy_share", l.busy_share}, {"bubble_share", l.bubble_share}});
          row["lanes"] = lane_json;
          results.push_back(row);
          measured.push_back(
              {prefiller.describe(), topo == "auto", prefiller.topology().homogeneous, len, sched, p_tps});
          std::string versus_text;
          if (!lm.graph->quantized)
            float_rates.push_back({path, len, sched, prefiller.topology().homogeneous, p_tps});
          else
            for (const FloatRate& f : float_rates)
              if (f.len == len && f.sched == sched && f.homogeneous == prefiller.topology().homogeneous) {
                versus_float.push_back({{"model", path},
                                        {"float_model", f.model},
                                        {"prompt_tokens", len},
                                        {"schedule", sched},
                                        {"topology", prefiller.describe()},
                                        {"prefill_tokens_per_second", p_tps},
                                        {"float_prefill_tokens_per_second", f.tps},
                                        {"ratio", p_tps / f.tps}});
                char line[512];
                std::snprintf(
                    line, sizeof line,
                    "  p=%-5d %-10s prefill %.2fx the float model %s (%.1f vs %.1f tok/s, same run)\n", len,
                    sched.c_str(), p_tps / f.tps, f.model.c_str(), p_tps, f.tps);
                versus_text = line;
                break;
              }
          if (text) {
            std::string lane_text;
            for (const auto& l : got.lanes)
              lane_text += str(" | ", l.name, " busy ", int(l.busy_share * 100), "% bubble ",
                               int(l.bubble_share * 100), "%");
            std::printf(
                "  p=%-5d %-10s %-60s prefill %8.1f tok/s (%4.1f%% of roofline, %4.1f%% of the GEMM's) ttft "
                "%7.3f s decode %6.1f tok/s (%4.1f%% of memory roofline) peak %.0f MiB%s\n",
                len, sched.c_str(), prefiller.describe().c_str(), p_tps, 100 * p_tps / roofline_tps,
                100 * p_tps / gemm_roofline_tps, median(got.ttft_s), d_tps, 100 * d_tps / decode_roofline_tps,
                got.peak_mib, lane_text.c_str());
            std::fputs(versus_text.c_str(), stdout);
            std::fflush(stdout);
          }
        }
      }
    }
    // Which topology is faster on this machine, per prompt length and schedule (when both ran).
    for (const Measured& a : measured) {
      if (!a.homogeneous || a.picked_by_auto) continue;
      for (const Measured& b : measured) {
        if (b.homogeneous || b.picked_by_auto || b.len != a.len || b.sched != a.sched) continue;
        const bool homo_faster = a.prefill_tps >= b.prefill_tps;
        comparisons.push_back({{"model", path},
                               {"prompt_tokens", a.len},
                               {"schedule", a.sched},
                               {"homogeneous_tokens_per_second", a.prefill_tps},
                               {"heterogeneous_tokens_per_second", b.prefill_tps},
                               {"faster", homo_faster ? "homogeneous" : "heterogeneous"}});
        if (text)
          std::printf(
              "  p=%-5d %-10s faster here: %s (homogeneous %.1f vs heterogeneous %.1f tok/s, %+.1f%%)\n",
              a.len, a.sched.c_str(), homo_faster ? "homogeneous" : "heterogeneous", a.prefill_tps,
              b.prefill_tps,
              100.0 *
                  (std::max(a.prefill_tps, b.prefill_tps) / std::min(a.prefill_tps, b.prefill_tps) - 1.0));
        break;
      }
    }
  }
  if (text) {
    std::printf(
        "peak memory %.0f MiB (the largest of the configurations above, model loaded). Processors: CPU "
        "cores; "
        "the accelerator role runs integer kernels on them.\n",
        largest_peak_mib);
  } else {
    nlohmann::json out = {{"machine",
                           {{"threads", hw_threads},
                            {"peak_int8_gmacs", peak_int8},
                            {"peak_fp32_gmacs", peak_fp32},
                            {"memory_read_gbs", bandwidth},
                            {"int8_instruction", peak_instruction(PeakKind::Int8Dot)},
                            {"int8_gemm_gmacs", gemm_int8},
                            {"int8_gemm_kernel", int8_kernel_name(best_int8_kernel())},
                            {"note", "no NPU: the accelerator role runs integer kernels on CPU cores"}}},
                          {"results", results},
                          {"topology_comparison", comparisons},
                          {"prepared_versus_float", versus_float}};
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}

Register reg("bench", "benchmark prefill/decode speed (-m MODEL -p 128,512,1024 -n 32 [-o json])",
             bench_command);

}  // namespace
}  // namespace llmnpu::cli
