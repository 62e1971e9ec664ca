#pragma once
// The tokenizer interface the engine uses. Implementations are built from a Vocab (tokenizer/vocab.h);
// tokenizer/load.h has the loaders and load_tokenizer(path).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace llmnpu {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Encodes text; special-token text in the input is matched as that token (as HF does).
  // add_bos adds the model's special tokens (BOS, and EOS when the vocab says add_eos).
  // Throws Error "input is not valid UTF-8 at byte N" for invalid input.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // The bytes a token stands for when decoded (may be a partial UTF-8 sequence).
  virtual std::string token_bytes(int32_t id) const = 0;
  // Text of the ids, as Hugging Face decodes with skip_special_tokens=False (special tokens as their
  // text; SentencePiece vocabs drop one leading space; invalid UTF-8 becomes U+FFFD).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when none
  virtual int32_t eos_id() const = 0;  // -1 when none
  virtual bool adds_bos() const = 0;   // the model's default for add_bos
  virtual size_t vocab_size() const = 0;
  virtual bool is_end_of_generation(int32_t id) const = 0;  // EOS, EOT, <|im_end|>...
  virtual std::string describe() const = 0;                 // one line for `inspect`
  // The vocab this tokenizer was built from (to store it in a written model).
  virtual const Vocab& vocab() const = 0;
};

// Builds the tokenizer for a vocab; loads one from a path (see tokenizer/load.h for all loaders).
std::unique_ptr<Tokenizer> make_tokenizer(Vocab vocab);
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace llmnpu

// Convenience: users of Tokenizer usually stream its output.
#include "tokenizer/streaming_decoder.h"  // IWYU pragma: export
