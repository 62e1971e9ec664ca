#pragma once
// PLACEHOLDER interface, owned and completed by the tokenizer work (see src/tokenizer/).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llmnpu {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Encodes text; special-token text in the input is matched as that token (as HF does).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos) const = 0;
  // The bytes a token stands for when decoded (may be a partial UTF-8 sequence).
  virtual std::string token_bytes(int32_t id) const = 0;
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when none
  virtual int32_t eos_id() const = 0;  // -1 when none
  virtual bool adds_bos() const = 0;   // the model's default for add_bos
  virtual size_t vocab_size() const = 0;
  virtual bool is_end_of_generation(int32_t id) const = 0;  // EOS, EOT, <|im_end|>...
  virtual std::string describe() const = 0;                  // one line for `inspect`
};

}  // namespace llmnpu
