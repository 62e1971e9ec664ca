#include "model_options.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "flags.h"

namespace llmnpu::cli {

void ModelOptions::add_to(CLI::App& app) {
  app.add_option("-m,--model", model_path, "model: GGUF file, Hugging Face folder, or llama2.c .bin")
      ->required();
  app.add_option("--tokenizer", tokenizer_path,
                 "tokenizer file (tokenizer.json, tokenizer.bin, .gguf) to use instead of the model's");
  app.add_option("-t,--threads", threads, "threads (default: all cores)")->check(thread_count());
  app.add_option("-c,--ctx-size", context, "context size in tokens (default 0: the model's)")
      ->check(integer_in(0, kMaxTokensFlag));
  app.add_flag_function(
      "--no-memory-check", [this](int64_t) { check_memory = false; },
      "load even when the model's estimated memory exceeds what the machine has (docs/memory.md)");
}

std::string read_text_file(const std::string& path) {
  std::ostringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    return s.str();
  }
  std::error_code ec;
  check(!std::filesystem::is_directory(path, ec), "'", path, "' is a folder, not a text file");
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "cannot read '", path, "'");
  s << in.rdbuf();
  check(!in.bad(), "cannot read '", path, "'");
  return s.str();
}

}  // namespace llmnpu::cli
