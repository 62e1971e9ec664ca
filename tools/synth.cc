// llmnpu synth: writes a deterministic random-weight model in a real model's shape.
#include "model/synth.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "core/error.h"
#include "core/timer.h"
#include "flags.h"
#include "model/model_writer.h"
#include "runtime/memory_estimate.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu::cli {
namespace {

int synth_command(int argc, char** argv) {
  std::string shapes;
  for (const auto& s : synth_shapes()) shapes += (shapes.empty() ? "" : ", ") + s.name;
  CLI::App app{"Write a synthetic model (random weights, real shapes) as GGUF or a Hugging Face folder."};
  app.name(argv[0]);
  SynthOptions opt;
  std::string out, vocab_path, format = "gguf", type = "f32";
  app.add_option("--shape", opt.shape, "shape: " + shapes);
  app.add_flag("--outliers", opt.outliers, "plant LLM-like massive activations in a few channels");
  app.add_option("--seed", opt.seed, "seed (default 1)");
  app.add_option("--layers", opt.layers, "override the number of layers (default: the shape's)")
      ->check(integer_in(1, 1024));
  app.add_option(
      "--vocab", vocab_path,
      "take the tokenizer from this file (tokenizer.json, .gguf); default: built-in byte-level BPE");
  app.add_option("--format", format, "gguf or hf (config.json + model.safetensors)")
      ->check(CLI::IsMember({"gguf", "hf"}));
  app.add_option("--type", type, "GGUF weight type: f32, f16, bf16, q8_0")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  app.add_option("-o,--output", out, "output file (gguf) or folder (hf)")->required();
  bool no_memory_check = false;
  app.add_flag("--no-memory-check", no_memory_check,
               "write an hf folder even when the fp32 model looks larger than the available memory");
  LLMNPU_PARSE_FLAGS(app, argc, argv);

  double t0 = now_seconds();
  Vocab vocab = vocab_path.empty() ? builtin_byte_vocab() : load_tokenizer(vocab_path)->vocab();
  SynthInfo info;
  std::unique_ptr<Model> model;
  if (format == "gguf") {
    GgmlType t = type == "f16"    ? GgmlType::F16
                 : type == "bf16" ? GgmlType::BF16
                 : type == "q8_0" ? GgmlType::Q8_0
                                  : GgmlType::F32;
    // One matrix at a time: a 7B shape is written in the memory of its largest matrix.
    SynthModel lazy = synthesize_lazily(opt, std::move(vocab), &info);
    write_model_gguf(*lazy.model, out, t, lazy.matrices);
    model = std::move(lazy.model);
  } else {
    if (!no_memory_check)
      check_memory(estimate_synth_memory(opt), "writing this shape as a Hugging Face folder");
    model = synthesize_model(opt, std::move(vocab), &info);
    write_model_hf(*model, out);
  }
  const ModelConfig& c = model->config;
  std::fprintf(stderr,
               "wrote %s: %s shape (%s, dim %d, %d layers, %d/%d heads, ffn %d, vocab %d)%s in %.1f s\n",
               out.c_str(), opt.shape.c_str(), c.arch.c_str(), c.dim, c.n_layers, c.n_heads, c.n_kv_heads,
               c.ffn_dim, c.vocab_size, opt.outliers ? " with planted outliers" : "", now_seconds() - t0);
  if (opt.outliers) {
    std::string r, f;
    for (int ch : info.residual_outlier_channels) r += str(" ", ch);
    for (int ch : info.ffn_outlier_channels) f += str(" ", ch);
    std::fprintf(stderr, "  residual outlier channels:%s | ffn outlier channels:%s\n", r.c_str(), f.c_str());
  }
  return 0;
}

Register reg("synth", "write a synthetic model in a real shape (--shape NAME [--outliers] -o FILE)",
             synth_command);

}  // namespace
}  // namespace llmnpu::cli
