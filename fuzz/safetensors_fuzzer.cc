// safetensors files: the header (JSON, dtypes, shapes, byte ranges), then a Hugging Face folder with that
// file and a fixed small config.json loaded as a model.
#include <filesystem>

#include "backend/float_graph.h"
#include "core/error.h"
#include "format/safetensors.h"
#include "fuzz_support.h"
#include "model/loader.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string folder = [] {
    std::filesystem::create_directories(fuzz::scratch_dir() + "/hf");
    fuzz::write_scratch("hf/config.json", fuzz::seed_config_json());
    return fuzz::scratch_dir() + "/hf";
  }();
  const std::string path = fuzz::write_scratch("hf/model.safetensors", data, size);
  try {
    SafetensorsFile file(path);
    for (const SafetensorsTensor& t : file.tensors()) (void)t.elements();
    std::unique_ptr<Model> model = load_model(folder);
    ModelGraph graph = build_float_graph(*model);
    fuzz::smoke_forward(*model, graph);
  } catch (const Error&) {
  }
  return 0;
}
