// llmnpu inspect MODEL: the config a model file loads to, its tokenizer, and its stored tensors.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/error.h"
#include "model/loader.h"
#include "model/tensor_names.h"

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

int run_inspect(int argc, char** argv) {
  CLI::App app("Show a model's config, tokenizer and tensors", "llmnpu inspect");
  std::string path, tokenizer;
  bool json = false;
  app.add_option("model", path, "GGUF file, Hugging Face folder or llama2.c .bin")->required();
  app.add_option("--tokenizer", tokenizer, "tokenizer to use instead of the model's own");
  app.add_flag("--json", json, "machine-readable output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

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
  const auto config = config_json(model->config);
  for (const auto& [key, value] : config.items())
    std::printf("  %-22s %s\n", key.c_str(),
                value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
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
