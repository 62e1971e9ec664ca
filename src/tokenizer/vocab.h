#pragma once
// The plain data every tokenizer loader produces (GGUF, tokenizer.json, llama2.c tokenizer.bin) and
// every tokenizer is built from; also what a model writer stores back as GGUF `tokenizer.ggml.*` keys.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf.h"

namespace llmnpu {

// Values as GGUF's tokenizer.ggml.token_type stores them.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

enum class VocabKind {
  ByteLevelBpe,      // GGUF "gpt2": GPT-2 byte mapping, merges ranked by order
  SentencePieceBpe,  // GGUF "llama": score-ranked merges, '▁' for spaces, <0xNN> byte fallback
};

struct Vocab {
  VocabKind kind = VocabKind::ByteLevelBpe;
  // Pre-tokenizer name as in GGUF tokenizer.ggml.pre ("gpt-2", "llama-bpe", "qwen2", ...). When
  // pre_regexes is non-empty it wins (a tokenizer.json whose split rules match no known name).
  std::string pre = "default";
  std::vector<std::string> pre_regexes;
  bool normalize_nfc = false;  // NFC before pre-tokenizing (Qwen2, GPT-NeoX/MPT)
  bool ignore_merges = false;  // a pre-token that is itself a token is used whole (Llama 3)

  std::vector<std::string> tokens;  // pieces as the vocab spells them (byte-mapped or with '▁')
  std::vector<float> scores;        // SentencePiece scores (may be empty for byte-level BPE)
  std::vector<TokenType> types;     // same length as tokens
  std::vector<std::string> merges;  // "left right", best first (byte-level BPE; optional for SPM)

  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1, eot_id = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = false;  // SentencePiece: '▁' before each piece of text
  // Special tokens that swallow the whitespace after them in text (llama.cpp's RSTRIP attribute); empty
  // or one flag per token.
  std::vector<uint8_t> rstrip;
  // The model's chat template (Jinja source), as GGUF tokenizer.chat_template and tokenizer_config.json
  // chat_template carry it; empty when the model has none. Kept through convert and prepare.
  std::string chat_template;

  size_t size() const { return tokens.size(); }
  // Throws Error when the vocab is inconsistent (sizes, ids out of range).
  void validate() const;
};

// Appends the standard GGUF tokenizer.ggml.* keys describing vocab.
void append_vocab_metadata(const Vocab& vocab, std::vector<std::pair<std::string, GgufValue>>& out);

// The known pre-tokenizer regex lists; empty when the name is unknown.
std::vector<std::string> pre_tokenizer_regexes(const std::string& pre);
// The regexes a vocab's text is split with (pre_regexes, else the named list, else GPT-2's).
std::vector<std::string> effective_pre_regexes(const Vocab& vocab);
// The GGUF pre name whose regex list equals these regexes, or "" when none does.
std::string pre_name_for_regexes(const std::vector<std::string>& regexes);

// A small deterministic byte-level BPE vocab (256 bytes, 253 merges learned from built-in English text,
// and the specials <|endoftext|>, <s>, </s>: 512 tokens) for synthetic test models.
Vocab builtin_byte_vocab();

}  // namespace llmnpu
