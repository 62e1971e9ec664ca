#pragma once
// Flags shared by the commands that load and run a model (-m, -t, -c, --tokenizer), in llama.cpp's spelling.
#include <CLI/CLI.hpp>
#include <string>

#include "runtime/loaded_model.h"

namespace llmnpu::cli {

struct ModelOptions : ModelLoadOptions {
  void add_to(CLI::App& app);
};

// Reads a whole text file ('-': standard input); throws Error when it cannot.
std::string read_text_file(const std::string& path);

}  // namespace llmnpu::cli
