// Hugging Face tokenizer.json (no tokenizer_config.json beside it): the reader, then the tokenizer it
// builds on a fixed text in several scripts.
#include <filesystem>

#include "core/error.h"
#include "fuzz_support.h"
#include "tokenizer/load.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool made = std::filesystem::create_directories(fuzz::scratch_dir() + "/tokenizer_json");
  (void)made;
  const std::string path = fuzz::write_scratch("tokenizer_json/tokenizer.json", data, size);
  try {
    std::unique_ptr<Tokenizer> tokenizer = make_tokenizer(vocab_from_hf_json(path));
    const std::string text = fuzz::sample_text();
    fuzz::exercise_tokenizer(*tokenizer, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  } catch (const Error&) {
  }
  return 0;
}
