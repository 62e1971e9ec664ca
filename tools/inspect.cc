// llmnpu inspect MODEL: the config a model file loads to, its tokenizer, and its stored tensors.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "backend/prepared_graph.h"
#include "backend/prepared_layout.h"
#include "command.h"
#include "core/error.h"
#include "flags.h"
#include "format/gguf.h"
#include "graph/sharing_report.h"
#include "model/loader.h"
#include "model/tensor_names.h"
#include "model_options.h"
#include "runtime/task_graph.h"

namespace llmnpu {
namespace {

const char* layout_name(RopeLayout l) { return l == RopeLayout::Interleaved ? "interleaved" : "half-split"; }
const char* scaling_name(RopeScaling s) {
  switch (s) {
    case RopeScaling::None: return "none";
    case RopeScaling::Linear: return "linear";
    case RopeScaling::Llama3: return "llama3";
  }
  return "?";
}

// The shortest decimal that reads back as the float (1e-05, not 9.99999974e-06).
double shortest(float f) {
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof(buf) - 1, f).ptr;
  *end = '\0';
  return std::strtod(buf, nullptr);
}

nlohmann::ordered_json config_json(const ModelConfig& c) {
  return {{"arch", c.arch},
          {"name", c.name},
          {"dim", c.dim},
          {"n_layers", c.n_layers},
          {"n_heads", c.n_heads},
          {"n_kv_heads", c.n_kv_heads},
          {"head_dim", c.head_dim},
          {"ffn_dim", c.ffn_dim},
          {"vocab_size", c.vocab_size},
          {"max_seq_len", c.max_seq_len},
          {"norm_eps", shortest(c.norm_eps)},
          {"rope_base", shortest(c.rope_base)},
          {"rope_layout", layout_name(c.rope_layout)},
          {"rope_scaling", scaling_name(c.rope_scaling)},
          {"rope_scaling_factor", shortest(c.rope_scaling_factor)},
          {"rope_low_freq_factor", shortest(c.rope_low_freq_factor)},
          {"rope_high_freq_factor", shortest(c.rope_high_freq_factor)},
          {"rope_original_context", c.rope_original_context},
          {"qkv_bias", c.qkv_bias},
          {"tied_output", c.tied_output}};
}

// The config as an indented key/value block.
void print_config(const ModelConfig& c) {
  const nlohmann::ordered_json config = config_json(c);
  for (const auto& [key, value] : config.items())
    std::printf("  %-22s %s\n", key.c_str(),
                value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
}

int print_graph(const std::string& path, const std::string& tokenizer, int prompt, int chunk, bool json) {
  cli::ModelOptions mo;
  mo.model_path = path;
  mo.tokenizer_path = tokenizer;
  mo.threads = 1;
  mo.context = 1;
  LoadedModel lm = load_for_inference(mo);
  SharingReport r = sharing_report(*lm.graph, lm.model->config, prompt, chunk, kDefaultMaxChunksInFlight);
  auto mib = [](size_t b) { return double(b) / (1 << 20); };
  if (json) {
    nlohmann::ordered_json out;
    out["model"] = path;
    out["weights"] = lm.graph->describe;
    out["prompt"] = prompt;
    out["chunk"] = chunk;
    out["chunks"] = r.chunks;
    out["subgraphs_per_chunk"] = r.per_chunk_subgraphs;
    out["static_shared"] = r.static_subgraphs;
    out["dynamic_per_chunk"] = r.dynamic_subgraphs;
    out["instances_without_sharing"] = r.instances_without_sharing;
    out["instances_with_sharing"] = r.instances_with_sharing;
    out["shared_weight_bytes"] = r.shared_weight_bytes;
    out["head_weight_bytes"] = r.head_weight_bytes;
    out["chunk_buffer_bytes"] = r.chunk_buffer_bytes;
    out["chunks_in_flight"] = r.chunks_in_flight;
    out["bytes_without_sharing"] = r.bytes_without_sharing;
    out["bytes_with_sharing"] = r.bytes_with_sharing;
    out["saved_share"] = r.saved_share();
    auto& list = out["subgraphs"] = nlohmann::ordered_json::array();
    const ModelProgram& program = lm.graph->program;
    for (const auto& f : r.footprints) {
      auto ops = nlohmann::ordered_json::array();
      for (const Op& op : f.subgraph.ops) ops.push_back(format_op(program, op));
      list.push_back({{"name", f.subgraph.name()},
                      {"role", role_name(f.subgraph.role)},
                      {"kind", f.subgraph.is_static ? "static (shared)" : "dynamic (per chunk)"},
                      {"weight_bytes", f.weight_bytes},
                      {"buffer_bytes", f.buffer_bytes},
                      {"ops", ops}});
    }
    auto& tensors = out["tensors"] = nlohmann::ordered_json::array();
    for (const TensorDecl& t : program.tensors)
      tensors.push_back({{"name", t.name}, {"width", t.width}, {"transient", t.transient}});
    out["embed"] = format_op(program, program.embed);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("graph of %s (%s), prompt %d, chunk %d: %d chunks\n", path.c_str(), lm.graph->describe.c_str(),
              prompt, chunk, r.chunks);
  std::printf("\nlayer program:\n%s\n", format_program(lm.graph->program).c_str());
  std::printf("subgraphs (the program cut where ops turn position-dependent):\n");
  std::printf("  %-10s %-12s %-20s %12s %12s\n", "subgraph", "role", "kind", "weights MiB", "buffers MiB");
  for (const auto& f : r.footprints) {
    std::printf("  %-10s %-12s %-20s %12.2f %12.2f\n", f.subgraph.name().c_str(), role_name(f.subgraph.role),
                f.subgraph.is_static ? "static (shared)" : "dynamic (per chunk)", mib(f.weight_bytes),
                mib(f.buffer_bytes));
    if (f.subgraph.layer <= 0)
      for (const Op& op : f.subgraph.ops) std::printf("      %s\n", format_op(lm.graph->program, op).c_str());
  }
  std::printf("\n%d subgraphs per chunk: %d static, shared by all chunks; %d dynamic, built per chunk\n",
              r.per_chunk_subgraphs, r.static_subgraphs, r.dynamic_subgraphs);
  std::printf("subgraph instances: %d with sharing vs %d with one graph per chunk (%d of %d shared)\n",
              r.instances_with_sharing, r.instances_without_sharing,
              r.instances_without_sharing - r.instances_with_sharing, r.instances_without_sharing);
  std::printf(
      "weights of the static subgraphs: %.1f MiB, held once (one copy per chunk without sharing); "
      "head %.1f MiB, once either way\n",
      mib(r.shared_weight_bytes), mib(r.head_weight_bytes));
  std::printf(
      "activation buffers: %.1f MiB per chunk in flight (at most %d at once), the same with or without "
      "sharing\n",
      mib(r.chunk_buffer_bytes), r.chunks_in_flight);
  std::printf("graph memory: %.1f MiB with sharing vs %.1f MiB without: %.1f%% saved\n",
              mib(r.bytes_with_sharing), mib(r.bytes_without_sharing), 100 * r.saved_share());
  return 0;
}

// A prepared W8A8 file: its config, the settings prepare recorded, and the int8 layout per linear.
int print_prepared(const std::string& path, const std::string& tokenizer, bool json) {
  LoadOptions opts;
  opts.tokenizer_path = tokenizer;
  const PreparedGraph prepared = load_prepared_model(path, opts);
  const GgufFile file(path);
  const PreparedLayout layout = prepared_layout(prepared, file);
  const Model& model = *prepared.model;
  const auto tensors = list_stored_tensors(path);
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes;
  auto mib = [](size_t b) { return double(b) / (1 << 20); };
  if (json) {
    nlohmann::ordered_json out;
    out["path"] = path;
    out["format"] = "prepared";
    out["processors"] = prepared.graph->describe;
    out["config"] = config_json(model.config);
    out["tokenizer"] = model.tokenizer ? nlohmann::ordered_json(model.tokenizer->describe()) : nullptr;
    out["tensor_bytes"] = total;
    out["prepared_version"] = layout.version;
    auto& settings = out["settings"] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : layout.settings) settings[key] = value;
    out["int8_weight_bytes"] = layout.int8_bytes;
    out["resident_shadow_bytes"] = layout.resident_bytes;
    out["shadowed_linears"] = layout.shadowed_linears;
    auto& list = out["linears"] = nlohmann::ordered_json::array();
    for (const PreparedLinearInfo& l : layout.linears)
      list.push_back({{"name", l.name},
                      {"in", l.in},
                      {"out", l.out},
                      {"weight_scales", l.per_channel_weights ? "channel" : "tensor"},
                      {"act_scale", l.act_scale},
                      {"shadow", l.shadow},
                      {"hot_channels", l.hot_channels},
                      {"weight_outliers", l.weight_outliers},
                      {"shadow_row_budget", l.row_entry_budget},
                      {"int8_bytes", l.int8_bytes},
                      {"resident_bytes", l.resident_bytes}});
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model:     %s\nformat:    prepared W8A8 (version %d)\nruns as:   %s\n", path.c_str(),
              layout.version, prepared.graph->describe.c_str());
  std::printf("tokenizer: %s\n\nconfig:\n", model.tokenizer ? model.tokenizer->describe().c_str() : "(none)");
  print_config(model.config);
  std::printf("\nprepare settings:\n");
  for (const auto& [key, value] : layout.settings) std::printf("  %-22s %s\n", key.c_str(), value.c_str());
  std::printf(
      "\nint8 linears (%zu): %.2f MiB int8 weights, %.3f MiB resident shadow (%.2f%%), %d with a shadow "
      "path; file %.2f MiB in %zu tensors\n",
      layout.linears.size(), mib(layout.int8_bytes), mib(layout.resident_bytes),
      layout.int8_bytes ? 100.0 * double(layout.resident_bytes) / double(layout.int8_bytes) : 0.0,
      layout.shadowed_linears, mib(total), tensors.size());
  std::printf("  %-16s %6s %6s  %-7s  %10s  %-6s  %6s  %5s  %8s  %10s\n", "linear", "in", "out", "scales",
              "act scale", "shadow", "budget", "hot", "w.outl.", "resident");
  for (const PreparedLinearInfo& l : layout.linears)
    std::printf("  %-16s %6d %6d  %-7s  %10.4g  %-6s  %6d  %5zu  %8zu  %10zu\n", l.name.c_str(), l.in, l.out,
                l.per_channel_weights ? "channel" : "tensor", double(l.act_scale), l.shadow ? "yes" : "no",
                l.row_entry_budget, l.hot_channels, l.weight_outliers, l.resident_bytes);
  return 0;
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

  if (graph) return print_graph(path, tokenizer, graph_prompt, graph_chunk, json);
  if (is_prepared_model(path)) return print_prepared(path, tokenizer, json);
  LoadOptions opts;
  opts.tokenizer_path = tokenizer;
  auto model = load_model(path, opts);
  const auto tensors = list_stored_tensors(path);
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes;

  if (json) {
    nlohmann::ordered_json out;
    out["path"] = path;
    out["format"] = model->format;
    out["config"] = config_json(model->config);
    out["tokenizer"] = model->tokenizer ? nlohmann::ordered_json(model->tokenizer->describe()) : nullptr;
    out["tensor_bytes"] = total;
    auto& list = out["tensors"] = nlohmann::ordered_json::array();
    for (const auto& t : tensors)
      list.push_back({{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"bytes", t.bytes}});
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("model:     %s\nformat:    %s\n", path.c_str(), model->format.c_str());
  std::printf("tokenizer: %s\n\nconfig:\n",
              model->tokenizer ? model->tokenizer->describe().c_str() : "(none)");
  print_config(model->config);
  std::printf("\ntensors (%zu, %.2f MiB):\n", tensors.size(), double(total) / (1 << 20));
  size_t width = 4;
  for (const auto& t : tensors) width = std::max(width, t.name.size());
  std::printf("  %-*s  %-6s  %-16s  %s\n", int(width), "name", "type", "shape", "bytes");
  for (const auto& t : tensors)
    std::printf("  %-*s  %-6s  %-16s  %llu\n", int(width), t.name.c_str(), t.type.c_str(),
                shape_string(t.shape).c_str(), static_cast<unsigned long long>(t.bytes));
  return 0;
}

const cli::Register reg("inspect", "show a model's config, tokenizer and tensor table", run_inspect);

}  // namespace
}  // namespace llmnpu
