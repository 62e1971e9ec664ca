#pragma once
// One exception type for everything a user can cause (bad files, bad flags, bad input).
// The command line catches it and prints a one-line message with a non-zero exit.
// (g++ 12 has no <format>; str() joins any streamable values instead.)
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace llmnpu {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
std::string str(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(str(std::forward<Args>(args)...));
}

template <typename... Args>
void check(bool ok, Args&&... args) {
  if (!ok) throw Error(str(std::forward<Args>(args)...));
}

}  // namespace llmnpu
