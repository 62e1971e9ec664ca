// The tokenizers on arbitrary bytes: the first byte picks one of the reference tokenizers (built-in
// byte-level BPE, and the SentencePiece and byte-level vocabs of ../shared/testdata where present), the
// rest is the text to encode; ids made from the input are decoded too.
#include "fuzz_support.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& tokenizers = fuzz::reference_tokenizers();
  fuzz::exercise_tokenizer(*tokenizers[data[0] % tokenizers.size()], data + 1, size - 1);
  return 0;
}
