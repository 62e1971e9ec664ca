#pragma once
// Loads a model from any supported format, detected from the path:
// - a GGUF file (magic "GGUF"; general.architecture "llama" or "qwen2"),
// - a Hugging Face folder (config.json + model.safetensors or sharded safetensors with an index),
// - a llama2.c checkpoint (.bin whose 7-int header predicts the exact file size).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace llmnpu {

struct LoadOptions {
  std::string tokenizer_path;  // overrides the tokenizer found with (or inside) the model
  // Keep the matrices in the file's encoding, decoded a block of rows at a time where used
  // (Model::streamed): what prepare loads, so that its memory holds neither an fp32 copy of the model
  // nor the mapped file's pages.
  bool stream_matrices = false;
};

enum class ModelFormat { Gguf, HuggingFace, Llama2c };
const char* model_format_name(ModelFormat f);  // "gguf", "hf", "llama2c"

// Which format PATH holds; throws Error naming the path when none fits.
ModelFormat detect_model_format(const std::string& path);

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& opts = {});

// One stored tensor as the file describes it (for `inspect`).
struct StoredTensor {
  std::string name;
  std::string type;             // "F32", "Q8_0", "BF16"...
  std::vector<uint64_t> shape;  // slowest first
  uint64_t bytes = 0;
};
// The tensors of a model file or folder, in file order; validates the container, not the model.
std::vector<StoredTensor> list_stored_tensors(const std::string& path);

}  // namespace llmnpu
