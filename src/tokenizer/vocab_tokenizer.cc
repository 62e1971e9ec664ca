#include "tokenizer/vocab_tokenizer.h"

#include <cctype>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/nfc.h"

namespace llmnpu {
namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 '▁'

std::string hex_byte(uint8_t b) {
  const char* digits = "0123456789ABCDEF";
  return {digits[b >> 4], digits[b & 15]};
}

// Token texts that end a turn in common chat vocabs.
bool is_end_of_turn_text(const std::string& text) {
  for (const char* t : {"<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>",
                        "<|end_of_text|>", "</s>", "<|EOT|>", "<｜end▁of▁sentence｜>"})
    if (text == t) return true;
  return false;
}

// "<0xAB>" -> 0xAB, or -1.
int parse_byte_piece(const std::string& piece) {
  if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    char c = piece[i];
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

bool is_special_type(TokenType t) {
  return t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
}

}  // namespace

VocabTokenizer::VocabTokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  vocab_.validate();
  const size_t n = vocab_.tokens.size();
  token_ids_.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) token_ids_.emplace(vocab_.tokens[i], int32_t(i));  // first id wins

  byte_ids_.fill(-1);
  const bool byte_level = vocab_.kind == VocabKind::ByteLevelBpe;
  if (byte_level) {
    for (int b = 0; b < 256; ++b) {
      auto it = token_ids_.find(byte_unicode::byte_to_utf8(uint8_t(b)));
      if (it != token_ids_.end()) byte_ids_[b] = it->second;
    }
    pre_tokenizer_ = std::make_unique<PreTokenizer>(effective_pre_regexes(vocab_));
  } else {
    for (size_t i = 0; i < n; ++i) {
      int b = parse_byte_piece(vocab_.tokens[i]);
      if (b >= 0 && byte_ids_[b] < 0) byte_ids_[b] = int32_t(i);
    }
    mergeable_.resize(n);
    for (size_t i = 0; i < n; ++i)
      mergeable_[i] = !is_special_type(vocab_.types[i]) && vocab_.types[i] != TokenType::Byte;
  }

  for (size_t r = 0; r < vocab_.merges.size(); ++r) {
    const std::string& m = vocab_.merges[r];
    size_t space = m.find(' ', 1);
    if (space == std::string::npos) continue;
    auto left = token_ids_.find(m.substr(0, space));
    auto right = token_ids_.find(m.substr(space + 1));
    auto merged = token_ids_.find(m.substr(0, space) + m.substr(space + 1));
    if (left == token_ids_.end() || right == token_ids_.end() || merged == token_ids_.end()) continue;
    uint64_t key = uint64_t(uint32_t(left->second)) << 32 | uint32_t(right->second);
    merge_ranks_.emplace(key, std::pair{int32_t(r), merged->second});  // first rank wins
  }
  check(byte_level ? !merge_ranks_.empty() || n <= 256 + 64 : true,
        "byte-level BPE vocab has no usable merges");

  for (size_t i = 0; i < n; ++i)
    if (is_special_type(vocab_.types[i])) specials_.add(vocab_.tokens[i], int32_t(i));
  specials_.finish();

  end_of_generation_.assign(n, false);
  for (int32_t id : {vocab_.eos_id, vocab_.eot_id})
    if (id >= 0) end_of_generation_[id] = true;
  for (size_t i = 0; i < n; ++i)
    if (vocab_.types[i] == TokenType::Control || vocab_.types[i] == TokenType::UserDefined)
      if (is_end_of_turn_text(vocab_.tokens[i])) end_of_generation_[i] = true;
}

void VocabTokenizer::check_id(int32_t id) const {
  check(id >= 0 && size_t(id) < vocab_.tokens.size(), "token id ", id, " is outside the vocab of ",
        vocab_.tokens.size());
}

std::vector<int32_t> VocabTokenizer::encode(std::string_view text, bool add_bos) const {
  utf8::require_valid(text);
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
  size_t start = 0;
  while (start <= text.size()) {
    SpecialTokenMatcher::Match m = specials_.find(text, start);
    if (m.len == 0) {
      encode_text(text.substr(start), out);
      break;
    }
    encode_text(text.substr(start, m.pos - start), out);
    out.push_back(m.id);
    start = m.pos + m.len;
    if (size_t(m.id) < vocab_.rstrip.size() && vocab_.rstrip[size_t(m.id)])
      while (start < text.size() && std::isspace(uint8_t(text[start]))) ++start;
  }
  if (add_bos && vocab_.add_eos && vocab_.eos_id >= 0) out.push_back(vocab_.eos_id);
  return out;
}

void VocabTokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (vocab_.kind == VocabKind::ByteLevelBpe)
    encode_byte_level(text, out);
  else
    encode_sentencepiece(text, out);
}

void VocabTokenizer::merge(std::vector<int32_t>& ids) const {
  if (!merge_ranks_.empty()) {
    bpe_merge(ids, [&](int32_t a, int32_t b) -> std::optional<BpeMerge> {
      auto it = merge_ranks_.find(uint64_t(uint32_t(a)) << 32 | uint32_t(b));
      if (it == merge_ranks_.end()) return std::nullopt;
      return BpeMerge{double(it->second.first), it->second.second};
    });
    return;
  }
  if (vocab_.scores.empty()) return;
  std::string joined;
  bpe_merge(ids, [&](int32_t a, int32_t b) -> std::optional<BpeMerge> {
    if (!mergeable_[a] || !mergeable_[b]) return std::nullopt;
    joined.assign(vocab_.tokens[a]).append(vocab_.tokens[b]);
    auto it = token_ids_.find(joined);
    if (it == token_ids_.end()) return std::nullopt;
    return BpeMerge{-double(vocab_.scores[it->second]), it->second};
  });
}

void VocabTokenizer::encode_byte_level(std::string_view text, std::vector<int32_t>& out) const {
  std::string normalized;
  if (vocab_.normalize_nfc) {
    normalized = nfc(text);
    text = normalized;
  }
  std::vector<int32_t> ids;
  std::string mapped;
  for (std::string_view word : pre_tokenizer_->split(text)) {
    if (vocab_.ignore_merges) {
      mapped.clear();
      for (char c : word) mapped += byte_unicode::byte_to_utf8(uint8_t(c));
      auto it = token_ids_.find(mapped);
      if (it != token_ids_.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    ids.clear();
    for (char c : word) {
      int32_t id = byte_ids_[uint8_t(c)];
      if (id < 0) id = vocab_.unk_id;
      if (id < 0) fail("the vocab has no token for byte 0x", hex_byte(uint8_t(c)), " and no unknown token");
      ids.push_back(id);
    }
    merge(ids);
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

void VocabTokenizer::encode_sentencepiece(std::string_view text, std::vector<int32_t>& out) const {
  // Normalize: '▁' before the text (add_space_prefix) and for every space.
  std::string normalized;
  normalized.reserve(text.size() + 8);
  if (vocab_.add_space_prefix) normalized += kSpaceMark;
  for (char c : text) {
    if (c == ' ')
      normalized += kSpaceMark;
    else
      normalized += c;
  }
  // One symbol per character; characters outside the vocab fall back to <0xNN> bytes (or unk).
  std::vector<int32_t> ids;
  ids.reserve(normalized.size());
  for (size_t i = 0; i < normalized.size();) {
    size_t len = utf8::sequence_length(uint8_t(normalized[i]));
    auto it = token_ids_.find(normalized.substr(i, len));
    if (it != token_ids_.end()) {
      ids.push_back(it->second);
    } else {
      bool all_bytes = true;
      for (size_t k = 0; k < len; ++k) all_bytes = all_bytes && byte_ids_[uint8_t(normalized[i + k])] >= 0;
      if (all_bytes) {
        for (size_t k = 0; k < len; ++k) ids.push_back(byte_ids_[uint8_t(normalized[i + k])]);
      } else if (vocab_.unk_id < 0) {
        fail("the vocab has no token for '", normalized.substr(i, len),
             "' (nor its bytes) and no unknown token");
      } else if (ids.empty() || ids.back() != vocab_.unk_id) {
        ids.push_back(vocab_.unk_id);  // consecutive unknowns fuse into one, as SentencePiece does
      }
    }
    i += len;
  }
  merge(ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::string VocabTokenizer::token_bytes(int32_t id) const {
  check_id(id);
  const std::string& piece = vocab_.tokens[id];
  TokenType type = vocab_.types[id];
  if (is_special_type(type)) return piece;
  if (vocab_.kind == VocabKind::ByteLevelBpe) {
    std::string bytes;
    if (byte_unicode::piece_to_bytes(piece, bytes)) return bytes;
    return piece;
  }
  if (type == TokenType::Byte) {
    int b = parse_byte_piece(piece);
    if (b >= 0) return std::string(1, char(b));
  }
  std::string text;
  text.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      text += ' ';
      i += kSpaceMark.size();
    } else {
      text += piece[i++];
    }
  }
  return text;
}

std::string VocabTokenizer::decode(const std::vector<int32_t>& ids) const {
  if (vocab_.kind == VocabKind::ByteLevelBpe) {
    std::string bytes;
    for (int32_t id : ids) bytes += token_bytes(id);
    return utf8::lossy(bytes);
  }
  // SentencePiece: a run of byte tokens that is not valid UTF-8 becomes one U+FFFD per byte (as HF's
  // ByteFallback decoder does); then one leading space is dropped.
  std::string text, run;
  size_t run_tokens = 0;
  auto flush_run = [&] {
    if (run_tokens == 0) return;
    if (utf8::first_invalid(run) == run.size()) {
      text += run;
    } else {
      for (size_t k = 0; k < run_tokens; ++k) text += "\xEF\xBF\xBD";
    }
    run.clear();
    run_tokens = 0;
  };
  for (int32_t id : ids) {
    check_id(id);
    if (vocab_.types[id] == TokenType::Byte && parse_byte_piece(vocab_.tokens[id]) >= 0) {
      run += token_bytes(id);
      ++run_tokens;
      continue;
    }
    flush_run();
    text += utf8::lossy(token_bytes(id));
  }
  flush_run();
  if (vocab_.add_space_prefix && !text.empty() && text[0] == ' ') text.erase(0, 1);
  return text;
}

bool VocabTokenizer::is_end_of_generation(int32_t id) const {
  return id >= 0 && size_t(id) < end_of_generation_.size() && end_of_generation_[id];
}

std::string VocabTokenizer::describe() const {
  std::string kind = vocab_.kind == VocabKind::ByteLevelBpe
                         ? str("byte-level BPE (pre-tokenizer ", vocab_.pre, ")")
                         : std::string("SentencePiece BPE with byte fallback");
  return str(
      kind, ", ", vocab_.tokens.size(), " tokens, ", vocab_.merges.size(), " merges, bos ", vocab_.bos_id,
      ", eos ", vocab_.eos_id, vocab_.add_bos ? ", adds BOS" : "", vocab_.normalize_nfc ? ", NFC" : "",
      vocab_.chat_template.empty() ? "" : str(", chat template of ", vocab_.chat_template.size(), " bytes"));
}

}  // namespace llmnpu
