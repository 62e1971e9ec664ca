// llmnpu inspect MODEL: the config a model file loads to, its tokenizer, and its stored tensors; for a
// prepared file its settings and int8 layout; with --graph the chunk subgraphs (runtime/model_report.h).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "flags.h"
#include "model/tensor_names.h"
#include "runtime/model_report.h"

namespace llmnpu {
namespace {

using ojson = nlohmann::ordered_json;

double mib(const ojson& bytes) { return bytes.get<double>() / (1 << 20); }
std::string text(const ojson& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// The config as an indented key/value block.
void print_config(const ojson& config) {
  for (const auto& [key, value] : config.items())
    std::printf("  %-22s %s\n", key.c_str(), text(value).c_str());
}

std::string tokenizer_text(const ojson& report) {
  return report["tokenizer"].is_null() ? "(none)" : report["tokenizer"].get<std::string>();
}

void print_graph(const ojson& g) {
  std::printf("graph of %s (%s), prompt %d, chunk %d: %d chunks\n", text(g["model"]).c_str(),
              text(g["weights"]).c_str(), g["prompt"].get<int>(), g["chunk"].get<int>(),
              g["chunks"].get<int>());
  std::printf("\nlayer program:\n%s\n", text(g["layer_program"]).c_str());
  std::printf("subgraphs (the program cut where ops turn position-dependent):\n");
  std::printf("  %-10s %-12s %-20s %12s %12s\n", "subgraph", "role", "kind", "weights MiB", "buffers MiB");
  for (const auto& s : g["subgraphs"]) {
    std::printf("  %-10s %-12s %-20s %12.2f %12.2f\n", text(s["name"]).c_str(), text(s["role"]).c_str(),
                text(s["kind"]).c_str(), mib(s["weight_bytes"]), mib(s["buffer_bytes"]));
    if (s["layer"].get<int>() <= 0)
      for (const auto& op : s["ops"]) std::printf("      %s\n", text(op).c_str());
  }
  const int with = g["instances_with_sharing"], without = g["instances_without_sharing"];
  std::printf("\n%d subgraphs per chunk: %d static, shared by all chunks; %d dynamic, built per chunk\n",
              g["subgraphs_per_chunk"].get<int>(), g["static_shared"].get<int>(),
              g["dynamic_per_chunk"].get<int>());
  std::printf("subgraph instances: %d with sharing vs %d with one graph per chunk (%d of %d shared)\n", with,
              without, without - with, without);
  std::printf(
      "weights of the static subgraphs: %.1f MiB, held once (one copy per chunk without sharing); head %.1f "
      "MiB, "
      "once either way\n",
      mib(g["shared_weight_bytes"]), mib(g["head_weight_bytes"]));
  std::printf(
      "activation buffers: %.1f MiB per chunk in flight (at most %d at once), the same with or without "
      "sharing\n",
      mib(g["chunk_buffer_bytes"]), g["chunks_in_flight"].get<int>());
  std::printf("graph memory: %.1f MiB with sharing vs %.1f MiB without: %.1f%% saved\n",
              mib(g["bytes_with_sharing"]), mib(g["bytes_without_sharing"]),
              100 * g["saved_share"].get<double>());
}

void print_prepared(const ojson& r) {
  std::printf("model:     %s\nformat:    prepared W8A8 (version %d)\nruns as:   %s\n",
              text(r["path"]).c_str(), r["prepared_version"].get<int>(), text(r["processors"]).c_str());
  std::printf("tokenizer: %s\n\nconfig:\n", tokenizer_text(r).c_str());
  print_config(r["config"]);
  std::printf("\nprepare settings:\n");
  for (const auto& [key, value] : r["settings"].items())
    std::printf("  %-22s %s\n", key.c_str(), text(value).c_str());
  const double int8 = r["int8_weight_bytes"].get<double>(),
               resident = r["resident_shadow_bytes"].get<double>();
  std::printf(
      "\nint8 linears (%zu): %.2f MiB int8 weights, %.3f MiB resident shadow (%.2f%%), %d with a shadow "
      "path; file "
      "%.2f MiB in %zu tensors\n",
      r["linears"].size(), int8 / (1 << 20), resident / (1 << 20), int8 > 0 ? 100.0 * resident / int8 : 0.0,
      r["shadowed_linears"].get<int>(), mib(r["tensor_bytes"]), r["tensor_count"].get<size_t>());
  std::printf("  %-16s %6s %6s  %-7s  %10s  %-6s  %6s  %5s  %8s  %10s\n", "linear", "in", "out", "scales",
              "act scale", "shadow", "budget", "hot", "w.outl.", "resident");
  for (const auto& l : r["linears"])
    std::printf("  %-16s %6d %6d  %-7s  %10.4g  %-6s  %6d  %5zu  %8zu  %10zu\n", text(l["name"]).c_str(),
                l["in"].get<int>(), l["out"].get<int>(), text(l["weight_scales"]).c_str(),
                l["act_scale"].get<double>(), l["shadow"].get<bool>() ? "yes" : "no",
                l["shadow_row_budget"].get<int>(), l["hot_channels"].get<size_t>(),
                l["weight_outliers"].get<size_t>(), l["resident_bytes"].get<size_t>());
}

void print_model(const ojson& r) {
  std::printf("model:     %s\nformat:    %s\n", text(r["path"]).c_str(), text(r["format"]).c_str());
  std::printf("tokenizer: %s\n\nconfig:\n", tokenizer_text(r).c_str());
  print_config(r["config"]);
  const ojson& tensors = r["tensors"];
  std::printf("\ntensors (%zu, %.2f MiB):\n", tensors.size(), mib(r["tensor_bytes"]));
  size_t width = 4;
  for (const auto& t : tensors) width = std::max(width, t["name"].get<std::string>().size());
  std::printf("  %-*s  %-6s  %-16s  %s\n", int(width), "name", "type", "shape", "bytes");
  for (const auto& t : tensors)
    std::printf("  %-*s  %-6s  %-16s  %llu\n", int(width), text(t["name"]).c_str(), text(t["type"]).c_str(),
                shape_string(t["shape"].get<std::vector<uint64_t>>()).c_str(),
                static_cast<unsigned long long>(t["bytes"].get<uint64_t>()));
}

int run_inspect(int argc, char** argv) {
  CLI::App app("Show a model's config, tokenizer and tensors", "llmnpu inspect");
  std::string path, tokenizer;
  bool json = false, graph = false;
  int graph_prompt = 1024, graph_chunk = 256;
  app.add_option("model", path, "GGUF file, Hugging Face folder or llama2.c .bin")->required();
  app.add_option("--tokenizer", tokenizer, "tokenizer to use instead of the model's own");
  app.add_flag("--json", json, "machine-readable output");
  app.add_flag("--graph", graph,
               "show the per-chunk subgraphs, which are shared, and the memory sharing saves");
  app.add_option("-p,--n-prompt", graph_prompt, "--graph: prompt length (default 1024)")
      ->check(cli::integer_in(1, cli::kMaxTokensFlag));
  app.add_option("--chunk", graph_chunk, "--graph: chunk length (default 256)")
      ->check(cli::integer_in(1, cli::kMaxTokensFlag));
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  const ojson report =
      graph ? graph_report(path, tokenizer, graph_prompt, graph_chunk) : model_report(path, tokenizer);
  if (json) {
    std::printf("%s\n", report.dump(2, ' ', false, ojson::error_handler_t::replace).c_str());
  } else if (graph) {
    print_graph(report);
  } else if (report["format"] == "prepared") {
    print_prepared(report);
  } else {
    print_model(report);
  }
  return 0;
}

const cli::Register reg("inspect", "show a model's config, tokenizer and tensor table", run_inspect);

}  // namespace
}  // namespace llmnpu
