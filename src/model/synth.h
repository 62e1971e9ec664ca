#pragma once
// Deterministic random-weight models in the shapes of real ones, for tests and benchmarks (no real
// model can be downloaded here). Optionally with planted LLM-like outliers ("massive activations"):
// a few fixed residual channels that reach 20-100x the median channel, and a few FFN channels whose
// down-projection input spikes, as trained LLMs show, so per-tensor int8 activations are hard.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/model_writer.h"
#include "tokenizer/vocab.h"

namespace llmnpu {

struct SynthShape {
  std::string name;
  ModelConfig config;
};

// "tiny", "qwen2.5-0.5b", "llama-3.2-1b".
const std::vector<SynthShape>& synth_shapes();
const SynthShape& find_synth_shape(const std::string& name);  // throws Error listing the known names

struct SynthOptions {
  std::string shape = "tiny";
  bool outliers = false;
  uint64_t seed = 1;
  int layers = 0;                       // override the shape's layer count (0 = keep), for quick experiments
  const ModelConfig* config = nullptr;  // a shape of the caller's instead of the named one
};

struct SynthInfo {
  std::vector<int> residual_outlier_channels;
  std::vector<int> ffn_outlier_channels;
};

// Builds the model in memory. vocab is padded (or cut) to the shape's vocab size.
std::unique_ptr<Model> synthesize_model(const SynthOptions& options, Vocab vocab, SynthInfo* info = nullptr);

// The same model with its 2-D weights (embedding, head, linears) left null, and a source that makes
// each one on demand with the same values: write_model_gguf(*model, path, type, matrices) then holds
// one matrix at a time, so 7B shapes are written in bounded memory.
struct SynthModel {
  std::unique_ptr<Model> model;
  MatrixSource matrices;
};
// Bytes of the whole model as fp32 (what synthesize_model holds).
uint64_t synth_float_bytes(const SynthOptions& options);

SynthModel synthesize_lazily(const SynthOptions& options, Vocab vocab, SynthInfo* info = nullptr);

}  // namespace llmnpu
