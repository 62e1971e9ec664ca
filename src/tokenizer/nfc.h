#pragma once
// Unicode Normalization Form C (canonical decomposition, canonical ordering, canonical composition),
// as Hugging Face's NFC normalizer applies before Qwen-style byte-level BPE.
#include <string>
#include <string_view>

namespace llmnpu {

// text must be valid UTF-8.
std::string nfc(std::string_view text);

}  // namespace llmnpu
