#pragma once
// Sampling flags (--temp, --top-k, --top-p, --seed) in llama.cpp's spelling, for run and chat.
#include <CLI/CLI.hpp>

#include "runtime/sampler.h"

namespace llmnpu::cli {

struct SamplingOptions : SamplerParams {
  CLI::Option* seed_option = nullptr;

  void add_to(CLI::App& app);
  // After parsing: a random seed when none was given (printed by the caller so a run can be repeated).
  void choose_seed();
};

}  // namespace llmnpu::cli
