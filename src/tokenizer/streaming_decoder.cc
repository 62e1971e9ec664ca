#include "tokenizer/streaming_decoder.h"

#include "core/utf8.h"

namespace llmnpu {

StreamingDecoder::StreamingDecoder(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {
  const Vocab& v = tokenizer.vocab();
  strip_leading_space_ = v.kind == VocabKind::SentencePieceBpe && v.add_space_prefix;
}

std::string StreamingDecoder::push(int32_t id) {
  std::string bytes = tokenizer_.token_bytes(id);
  if (at_start_ && !bytes.empty()) {
    at_start_ = false;
    if (strip_leading_space_ && pending_.empty() && bytes[0] == ' ') bytes.erase(0, 1);
  }
  pending_ += bytes;
  std::string out;
  size_t consumed = utf8::append_lossy(out, pending_, /*hold_incomplete=*/true);
  pending_.erase(0, consumed);
  return out;
}

std::string StreamingDecoder::flush() {
  std::string out = utf8::lossy(pending_);
  pending_.clear();
  return out;
}

void StreamingDecoder::reset() {
  pending_.clear();
  at_start_ = true;
}

}  // namespace llmnpu
