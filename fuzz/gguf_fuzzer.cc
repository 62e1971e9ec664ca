// GGUF model files: the container and its metadata, the tensor listing `inspect` prints, the model
// loader (hyperparameters, tensor shapes, dequantization, the vocab), and a short forward pass over
// whatever the loader accepts.
#include "backend/float_graph.h"
#include "core/error.h"
#include "format/gguf.h"
#include "fuzz_support.h"
#include "model/loader.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("model.gguf", data, size);
  try {
    GgufFile file(path);
    for (const auto& entry : file.metadata()) (void)entry.second.summary();
    (void)list_stored_tensors(path);
    std::unique_ptr<Model> model = load_model(path);
    ModelGraph graph = build_float_graph(*model);
    fuzz::smoke_forward(*model, graph);
  } catch (const Error&) {
  }
  return 0;
}
