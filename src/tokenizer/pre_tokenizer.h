#pragma once
// Splits text into pre-tokens with a list of regexes applied one after another (each regex splits every
// piece the previous one produced; matches and the text between them both become pieces), as
// Hugging Face's Split(behavior=Isolated) pre-tokenizers and llama.cpp's regex lists do. PCRE2 with
// UTF and UCP, so \p{L}, \p{N} and \s follow Unicode.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llmnpu {

class PreTokenizer {
 public:
  explicit PreTokenizer(const std::vector<std::string>& regexes);  // throws Error on a bad regex
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // text must be valid UTF-8; the pieces point into it and cover it exactly.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> regexes_;
};

}  // namespace llmnpu
