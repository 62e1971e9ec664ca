// llmnpu convert: any model this engine loads (GGUF, HF folder, llama2.c) written as GGUF or as an HF folder.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "command.h"
#include "core/error.h"
#include "core/timer.h"
#include "flags.h"
#include "model/loader.h"
#include "model/model_writer.h"

namespace llmnpu::cli {
namespace {

int convert_command(int argc, char** argv) {
  CLI::App app{"Convert a model (GGUF, Hugging Face folder, llama2.c) to GGUF or to a Hugging Face folder."};
  app.name(argv[0]);
  std::string in, out, tokenizer, format = "gguf", type = "f32";
  app.add_option("-m,--model", in, "input model")->required();
  app.add_option("--tokenizer", tokenizer, "tokenizer to use instead of the model's own");
  app.add_option("-o,--output", out, "output GGUF file, or folder for --format hf")->required();
  app.add_option("--format", format, "gguf (default) or hf")->check(CLI::IsMember({"gguf", "hf"}));
  app.add_option("--type", type, "GGUF weight type: f32 (default), f16, bf16, q8_0")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  double t0 = now_seconds();
  LoadOptions lo;
  lo.tokenizer_path = tokenizer;
  auto model = load_model(in, lo);
  if (format == "hf") {
    write_model_hf(*model, out);
  } else {
    GgmlType t = type == "f16"    ? GgmlType::F16
                 : type == "bf16" ? GgmlType::BF16
                 : type == "q8_0" ? GgmlType::Q8_0
                                  : GgmlType::F32;
    write_model_gguf(*model, out, t);
  }
  std::fprintf(stderr, "wrote %s (%s) in %.1f s\n", out.c_str(), format == "hf" ? "hf folder" : type.c_str(),
               now_seconds() - t0);
  if (!model->tokenizer && format == "gguf")
    std::fprintf(stderr,
                 "warning: '%s' has no tokenizer, so neither has the GGUF: llmnpu runs it with --tokenizer, "
                 "llama.cpp cannot load it (pass --tokenizer FILE to convert)\n",
                 in.c_str());
  if (!model->tokenizer && format == "hf")
    std::fprintf(stderr, "note: '%s' has no tokenizer, so the folder has no tokenizer.json\n", in.c_str());
  return 0;
}

Register reg("convert", "write a model as GGUF (f32/f16/bf16/q8_0) or an HF folder (-m IN -o OUT)",
             convert_command);

}  // namespace
}  // namespace llmnpu::cli
