// llama2.c checkpoints (a 7 x int32 header that must predict the file size, then float arrays): the
// header checks, the loader, and a short forward pass.
#include "backend/float_graph.h"
#include "core/error.h"
#include "fuzz_support.h"
#include "model/loader.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("model.bin", data, size);
  try {
    std::unique_ptr<Model> model = load_model(path);
    ModelGraph graph = build_float_graph(*model);
    fuzz::smoke_forward(*model, graph);
  } catch (const Error&) {
  }
  return 0;
}
