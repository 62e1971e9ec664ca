#pragma once
// Stop strings for generation: text is streamed as it is decoded, but a piece that could still grow into
// a stop string is held back, so the stop string itself is never shown; generation ends at the first
// stop string, and the text before it is kept.
#include <string>
#include <string_view>
#include <vector>

namespace llmnpu {

class StopStrings {
 public:
  // Throws Error for an empty stop string.
  explicit StopStrings(std::vector<std::string> stops);

  // Adds decoded text; returns what is safe to show now. After a stop string appears, stopped() is
  // true, the text before it has been returned, and later calls return nothing.
  std::string push(std::string_view text);
  // The end of generation without a stop string: whatever was held back.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace llmnpu
