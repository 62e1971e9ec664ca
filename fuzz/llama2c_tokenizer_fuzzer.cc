// llama2.c tokenizer.bin (max token length, then score, length and bytes per token): the reader, then
// the tokenizer it builds on a fixed text in several scripts.
#include "core/error.h"
#include "fuzz_support.h"
#include "tokenizer/load.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("tokenizer.bin", data, size);
  try {
    std::unique_ptr<Tokenizer> tokenizer = make_tokenizer(vocab_from_llama2c(path, 0));
    const std::string text = fuzz::sample_text();
    fuzz::exercise_tokenizer(*tokenizer, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  } catch (const Error&) {
  }
  return 0;
}
