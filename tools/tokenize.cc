// llmnpu tokenize: prints the token ids of a text (and with --json, the pieces too).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "command.h"
#include "core/error.h"
#include "flags.h"
#include "model_options.h"
#include "tokenizer/load.h"

namespace llmnpu::cli {
namespace {

int tokenize_command(int argc, char** argv) {
  CLI::App app{"Tokenize a text with a model's tokenizer and print the token ids."};
  app.name(argv[0]);
  std::string model, prompt, prompt_file;
  bool no_bos = false, json = false;
  app.add_option("-m,--model", model,
                 "model GGUF, vocab-only GGUF, tokenizer.json, tokenizer.bin or a folder")
      ->required();
  app.add_option("-p,--prompt", prompt, "text to tokenize");
  app.add_option("-f,--file", prompt_file, "read the text from a file");
  app.add_flag("--no-bos", no_bos, "do not add BOS even if the tokenizer asks for it");
  app.add_flag("--json", json, "print {\"ids\": [...], \"pieces\": [...]}");
  LLMNPU_PARSE_FLAGS(app, argc, argv);
  check(prompt_file.empty() || prompt.empty(), "give the text with -p or -f, not both");
  if (!prompt_file.empty()) prompt = read_text_file(prompt_file);

  auto tokenizer = load_tokenizer(model);
  std::vector<int32_t> ids = tokenizer->encode(prompt, tokenizer->adds_bos() && !no_bos);
  if (json) {
    nlohmann::json out;
    out["ids"] = ids;
    std::vector<std::string> pieces;
    for (int32_t id : ids) pieces.push_back(tokenizer->vocab().tokens[size_t(id)]);
    out["pieces"] = pieces;
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

Register reg("tokenize", "print the token ids of a text", tokenize_command);

}  // namespace
}  // namespace llmnpu::cli
