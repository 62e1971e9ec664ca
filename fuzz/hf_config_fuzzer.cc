// Hugging Face config.json: every architecture's keys and their checks; a config that parses must also
// be written back and read again to the same architecture.
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "model/load_hf_config.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ModelConfig config;
  try {
    config = parse_hf_config(text, "config.json");
  } catch (const Error&) {
    return 0;
  }
  std::string written;
  try {
    written = hf_config_json(config);
  } catch (const Error&) {
    return 0;  // an option the family's config.json cannot express: refused by name
  }
  const ModelConfig again = parse_hf_config(written, "written config.json");
  if (again.arch != config.arch || again.dim != config.dim || again.n_layers != config.n_layers) {
    std::fprintf(stderr, "config.json did not survive a write and a read\n");
    std::abort();
  }
  return 0;
}
