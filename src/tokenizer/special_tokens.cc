#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace llmnpu {

void SpecialTokenMatcher::add(std::string text, int32_t id) {
  if (text.empty()) return;
  by_first_byte_[uint8_t(text[0])].emplace_back(std::move(text), id);
  empty_ = false;
}

void SpecialTokenMatcher::finish() {
  for (auto& bucket : by_first_byte_)
    std::stable_sort(bucket.begin(), bucket.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

SpecialTokenMatcher::Match SpecialTokenMatcher::find(std::string_view text, size_t from) const {
  if (empty_) return {};
  for (size_t pos = from; pos < text.size(); ++pos) {
    const auto& bucket = by_first_byte_[uint8_t(text[pos])];
    for (const auto& [token, id] : bucket)
      if (text.compare(pos, token.size(), token) == 0) return {pos, token.size(), id};
  }
  return {};
}

}  // namespace llmnpu
