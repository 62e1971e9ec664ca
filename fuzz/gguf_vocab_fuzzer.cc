// Vocab-only GGUF files (tokenizer.ggml.* metadata): the vocab reader, then the tokenizer it builds on a
// fixed text in several scripts.
#include "core/error.h"
#include "format/gguf.h"
#include "fuzz_support.h"
#include "tokenizer/load.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("vocab.gguf", data, size);
  try {
    std::unique_ptr<Tokenizer> tokenizer = make_tokenizer(vocab_from_gguf(GgufFile(path)));
    (void)tokenizer->describe();
    const std::string text = fuzz::sample_text();
    fuzz::exercise_tokenizer(*tokenizer, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  } catch (const Error&) {
  }
  return 0;
}
