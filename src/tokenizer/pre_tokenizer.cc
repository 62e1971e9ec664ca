#include "tokenizer/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "core/error.h"
#include "core/utf8.h"

namespace llmnpu {

namespace {

// PCRE2's \s (with UCP) leaves out U+0085 (NEL), which Unicode's White_Space and the reference regex
// engines (Oniguruma, Rust regex) include: add it to every \s and \S.
std::string with_next_line_as_space(const std::string& pattern) {
  std::string out;
  int class_depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char e = pattern[++i];
      if (e == 's')
        out += class_depth ? "\\s\\x{85}" : "[\\s\\x{85}]";
      else if (e == 'S' && !class_depth)
        out += "[^\\s\\x{85}]";
      else
        (out += '\\') += e;
      continue;
    }
    if (c == '[') ++class_depth;
    if (c == ']' && class_depth) --class_depth;
    out += c;
  }
  return out;
}

}  // namespace

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(const std::vector<std::string>& regexes) {
  for (const auto& original : regexes) {
    const std::string pattern = with_next_line_as_space(original);
    int error = 0;
    PCRE2_SIZE offset = 0;
    auto compiled = std::make_unique<Compiled>();
    compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!compiled->code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      fail("pre-tokenizer regex does not compile at offset ", offset, ": ", reinterpret_cast<char*>(message),
           " (", utf8::lossy(pattern.substr(0, 200)), ")");
    }
    pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back silently
    regexes_.push_back(std::move(compiled));
  }
}

PreTokenizer::~PreTokenizer() = default;

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  pieces.push_back(text);
  for (const auto& regex : regexes_) {
    // Owned here so that an error thrown mid-split (a match limit) frees it.
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> owned(
        pcre2_match_data_create_from_pattern(regex->code, nullptr), pcre2_match_data_free);
    pcre2_match_data* match = owned.get();
    check(match != nullptr, "out of memory in pre-tokenizer");
    std::vector<std::string_view> next;
    next.reserve(pieces.size() * 2);
    for (std::string_view piece : pieces) {
      auto subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t pos = 0, last = 0;
      while (pos < piece.size()) {
        int rc = pcre2_match(regex->code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, match, nullptr);
        if (rc < 0) {
          check(rc == PCRE2_ERROR_NOMATCH, "pre-tokenizer regex failed with PCRE2 error ", rc,
                rc == PCRE2_ERROR_MATCHLIMIT ? " (match limit: the regex backtracks too much on this text)"
                                             : "");
          break;
        }
        PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
        size_t start = ovector[0], end = ovector[1];
        if (end == start) {  // empty match: step over one character
          if (start >= piece.size()) break;
          pos = start + utf8::sequence_length(uint8_t(piece[start]));
          continue;
        }
        if (start > last) next.push_back(piece.substr(last, start - last));
        next.push_back(piece.substr(start, end - start));
        last = pos = end;
      }
      if (last < piece.size()) next.push_back(piece.substr(last));
    }
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace llmnpu
