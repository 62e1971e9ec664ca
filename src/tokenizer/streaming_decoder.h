#pragma once
// Decodes token ids one at a time into text, returning only complete UTF-8: a character split across
// tokens (byte-level pieces, or SentencePiece <0xNN> byte fallback) is held back until it is whole.
// The concatenation of every push() and the final flush() equals tokenizer.decode(ids) for ids that
// decode to valid UTF-8 (SentencePiece vocabs drop one leading space, as decode does).
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace llmnpu {

class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer);

  std::string push(int32_t id);  // text that became complete with this token (often empty)
  std::string flush();           // whatever is held back; an incomplete sequence becomes U+FFFD
  void reset();                  // start a new text

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;  // bytes of an incomplete UTF-8 sequence
  bool at_start_ = true;
  bool strip_leading_space_ = false;
};

}  // namespace llmnpu
