// Prepared W8A8 GGUF files (llmnpu.prepared.* keys, int8 weights, scales, hot channels, shadow data):
// recognition, the validator in the loader, and a short forward pass through the int8 linears.
#include "backend/prepared_graph.h"
#include "core/error.h"
#include "fuzz_support.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("prepared.gguf", data, size);
  try {
    if (!is_prepared_model(path)) return 0;
    PreparedGraph prepared = load_prepared_model(path);
    fuzz::smoke_forward(*prepared.model, *prepared.graph);
  } catch (const Error&) {
  }
  return 0;
}
