#pragma once
// Finds added/special token text inside input text, leftmost-longest first (as Hugging Face's
// added-vocabulary matcher does), so "<|im_start|>" in a prompt becomes that single token.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmnpu {

class SpecialTokenMatcher {
 public:
  void add(std::string text, int32_t id);  // empty texts are ignored
  void finish();                           // call after the last add()

  struct Match {
    size_t pos = 0, len = 0;
    int32_t id = -1;
  };
  // The first match at or after `from`; len == 0 when there is none.
  Match find(std::string_view text, size_t from) const;

 private:
  std::array<std::vector<std::pair<std::string, int32_t>>, 256> by_first_byte_;  // longest first
  bool empty_ = true;
};

}  // namespace llmnpu
