#pragma once
// Subcommands register themselves (one file per subcommand) so main.cc never changes.
#include <functional>
#include <string>
#include <vector>

namespace llmnpu::cli {

struct Command {
  std::string name;
  std::string summary;
  std::function<int(int argc, char** argv)> run;  // argv[0] is "llmnpu NAME"
};

std::vector<Command>& commands();

struct Register {
  Register(std::string name, std::string summary, std::function<int(int, char**)> run) {
    commands().push_back({std::move(name), std::move(summary), std::move(run)});
  }
};

}  // namespace llmnpu::cli
