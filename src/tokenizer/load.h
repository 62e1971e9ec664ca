#pragma once
// Tokenizer loaders. Each produces a Vocab; make_tokenizer builds the tokenizer from it.
#include <cstdint>
#include <memory>
#include <string>

#include "format/gguf.h"
#include "format/json_document.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace llmnpu {

// From GGUF tokenizer.ggml.* metadata (a vocab-only GGUF or a full model). Throws Error when absent.
Vocab vocab_from_gguf(const GgufFile& gguf);
// From a Hugging Face tokenizer.json, with tokenizer_config.json beside it (when present) for
// bos/eos and add_bos_token/add_eos_token.
Vocab vocab_from_hf_json(const std::string& path);
// The same from parsed documents (tokenizer.json, tokenizer_config.json or an empty object); the
// sources name them in errors.
Vocab vocab_from_hf_documents(const Json& tokenizer_json, const std::string& tokenizer_source,
                              const Json& tokenizer_config, const std::string& config_source);
// From a llama2.c tokenizer.bin: int32 max_token_length, then per token float score, int32 length,
// bytes. vocab_size is the model's; <= 0 reads tokens until the end of the file.
Vocab vocab_from_llama2c(const std::string& path, int32_t vocab_size);

std::unique_ptr<Tokenizer> make_tokenizer(Vocab vocab);

// Writes FOLDER/tokenizer.json and FOLDER/tokenizer_config.json describing vocab, which
// vocab_from_hf_json reads back to the same tokenization. A SentencePiece vocab's merges are derived
// from its scores.
void write_hf_tokenizer(const Vocab& vocab, const std::string& folder);

// Autodetects: a .gguf (vocab-only or full model), a tokenizer.json, a folder holding tokenizer.json
// (or tokenizer.bin), or a llama2.c tokenizer.bin.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace llmnpu
