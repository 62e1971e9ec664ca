#pragma once
// Flag parsing for every subcommand: a parse that turns every CLI11 error into one line (main prints
// "error: ..." and exits 1), and validators whose messages give the valid range in words. Every number a
// user passes is bounded here, before anything is loaded or printed.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace llmnpu::cli {

// Parses argv into app. Returns 0 after printing --help; throws Error (one line) on any bad flag;
// returns nothing when the command should go on.
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv);

// Return from the command when parse_flags has already decided the exit code.
#define LLMNPU_PARSE_FLAGS(app, argc, argv)                                              \
  if (std::optional<int> flags_exit_code_ = ::llmnpu::cli::parse_flags(app, argc, argv)) \
  return *flags_exit_code_

// An integer in [lo, hi]. The error says "must be an integer from lo to hi", or "must be " + words when
// the range needs words ("an integer from 0 to 1048576, or -1 for until end of text"). Values that do
// not fit in 64 bits are out of range.
CLI::Validator integer_in(int64_t lo, int64_t hi, const std::string& words = "");
// A finite number in [lo, hi] (or (lo, hi] with lo_open).
CLI::Validator number_in(double lo, double hi, bool lo_open = false);

// Thread counts: 0 (all cores) up to this many (a few times the cores, so oversubscription can be tried
// but a typo cannot start a hundred thousand threads).
int max_threads();
CLI::Validator thread_count();

// The largest context, prompt and chunk length a flag may ask for (tokens).
constexpr int64_t kMaxTokensFlag = int64_t(1) << 20;

}  // namespace llmnpu::cli
