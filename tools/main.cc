// llmnpu: the command line. Dispatches to a registered subcommand; every user error becomes one line
// on stderr and a non-zero exit.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "command.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/printable.h"
#include "core/utf8.h"

namespace llmnpu::cli {
std::vector<Command>& commands() {
  static std::vector<Command> list;
  return list;
}
}  // namespace llmnpu::cli

// Error text can carry bytes from files and flags: print it as one line of valid UTF-8 with control bytes
// escaped, so a hostile file cannot move the cursor or split the message.
static void print_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", llmnpu::printable(llmnpu::utf8::lossy(message)).c_str());
}

static void print_usage() {
  auto list = llmnpu::cli::commands();
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::printf(
      "llmnpu: LLM inference with prompt prefill on an integer accelerator role.\n"
      "On this build the accelerator role runs on CPU cores with integer-only kernels.\n\n"
      "usage: llmnpu COMMAND [options]   (llmnpu COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : list) std::printf("  %-12s %s\n", c.name.c_str(), c.summary.c_str());
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    print_usage();
    return argc < 2 ? 1 : 0;
  }
  std::string name = argv[1];
  for (const auto& c : llmnpu::cli::commands()) {
    if (c.name != name) continue;
    std::string program = "llmnpu " + name;
    argv[1] = program.data();
    try {
      llmnpu::cpu_features();  // an invalid LLMNPU_ISA is an error before anything runs
      return c.run(argc - 1, argv + 1);
    } catch (const llmnpu::Error& e) {
      print_error(e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      print_error("out of memory");
      return 1;
    } catch (const std::exception& e) {
      print_error(e.what());
      return 1;
    }
  }
  print_error("unknown command '" + name + "' (try llmnpu --help)");
  return 1;
}
