#pragma once
// Flags that say how prefill runs: chunk length, scheduling policy, processor topology, trace file.
#include <CLI/CLI.hpp>
#include <string>

#include "runtime/prefiller.h"

namespace llmnpu::cli {

struct PrefillOptions : PrefillSettings {
  std::string trace_path;

  void add_to(CLI::App& app, bool with_trace = true);
};

}  // namespace llmnpu::cli
