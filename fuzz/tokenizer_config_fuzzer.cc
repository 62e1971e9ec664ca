// Hugging Face tokenizer_config.json (bos/eos/pad tokens, add_bos_token...) beside a fixed valid
// tokenizer.json.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "fuzz_support.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/load.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Json tokenizer_json = [] {
    const std::string folder = fuzz::scratch_dir() + "/tokenizer_config";
    std::filesystem::create_directories(folder);
    // A small vocab (bytes and a few specials, no merges) keeps each run cheap.
    Vocab vocab;
    vocab.pre = "gpt-2";
    for (int b = 0; b < 256; ++b) vocab.tokens.push_back(byte_unicode::byte_to_utf8(uint8_t(b)));
    vocab.types.assign(vocab.tokens.size(), TokenType::Normal);
    for (const char* special : {"<|endoftext|>", "<s>", "</s>", "<unk>", "<|im_end|>", "<pad>"}) {
      vocab.tokens.push_back(special);
      vocab.types.push_back(TokenType::Control);
    }
    write_hf_tokenizer(vocab, folder);
    return read_json_document(folder + "/tokenizer.json");
  }();
  try {
    // Parsed from memory against the tokenizer.json parsed once: each run costs only the config.
    const Json config = parse_json_document(std::string_view(reinterpret_cast<const char*>(data), size),
                                            "tokenizer_config.json");
    // The config decides special ids and flags: check them on the vocab (building the tokenizer, with
    // its regex compilation, would cost most of each run and test nothing the config changes).
    const Vocab vocab =
        vocab_from_hf_documents(tokenizer_json, "tokenizer.json", config, "tokenizer_config.json");
    for (int32_t id : {vocab.bos_id, vocab.eos_id, vocab.pad_id, vocab.eot_id})
      if (id < -1 || id >= int32_t(vocab.size())) {
        std::fprintf(stderr, "special id %d outside the vocab\n", int(id));
        std::abort();
      }
    if (vocab.add_bos && vocab.bos_id < 0) {
      std::fprintf(stderr, "add_bos without a BOS token\n");
      std::abort();
    }
  } catch (const Error&) {
  }
  return 0;
}
