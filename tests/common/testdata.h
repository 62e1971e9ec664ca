#pragma once
// Where the shared test data lives, and how a test that needs it behaves when it is missing:
// skip with a message, except under CI=true where missing data is a failure.
#include <gtest/gtest.h>

#include <string>

namespace llmnpu::test {

std::string shared_dir();                            // ../shared beside the repository
bool shared_available(const std::string& relative);  // file or folder exists under shared_dir()
std::string shared_path(const std::string& relative);
std::string
llmnpu_binary();         // the command line of the built `llmnpu` (its path, or the emulator and its path)
std::string temp_dir();  // a fresh folder for this test process

// Runs a shell command, returns its exit code; stdout+stderr captured into *output if given.
int run_command(const std::string& command, std::string* output = nullptr);

}  // namespace llmnpu::test

// Use at the top of a test: skips (or fails under CI=true) when ../shared/RELATIVE is missing.
#define LLMNPU_REQUIRE_SHARED(relative)                                                                  \
  do {                                                                                                   \
    if (!::llmnpu::test::shared_available(relative)) {                                                   \
      const char* ci = std::getenv("CI");                                                                \
      if (ci && std::string(ci) == "true") FAIL() << "CI=true but shared data is missing: " << relative; \
      GTEST_SKIP() << "shared test data missing: " << ::llmnpu::test::shared_path(relative);             \
    }                                                                                                    \
  } while (0)
