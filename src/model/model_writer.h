#pragma once
// Writes a loaded model back to disk, as GGUF or as a Hugging Face folder, so that both files describe
// the same function, in each format's conventions (docs/formats.md): Q/K rows permuted to the RoPE
// layout each target expects (GGUF "llama": Interleaved, every other GGUF arch and HF: HalfSplit), HF
// Gemma norms stored without their +1, Phi-3's fused Q|K|V and gate|up, Llama 3 scaling as rope_freqs.
#include <functional>
#include <list>
#include <string>
#include <vector>

#include "format/ggml_type.h"
#include "format/gguf_writer.h"
#include "model/model.h"

namespace llmnpu {

// Matrices (2-D) are stored as weight_type (F32, F16, BF16 or Q8_0; Q8_0 falls back to F32 for rows
// that are not a multiple of 32); norms and biases stay F32.
// The standard GGUF keys of a model (general.*, <arch>.* hyperparameters, tokenizer.ggml.*): shared by
// the float writer and the prepared-model writer.
void set_model_metadata(const Model& model, GgufWriter& writer);

// Makes a 2-D weight (row-major floats, in the model's own conventions) that the model does not hold.
using MatrixSource = std::function<std::vector<float>(TensorRole role, int layer)>;

// Matrices are encoded one at a time while the file is written; those the model lacks (null
// pointers) come from `source`, so a model larger than memory can be written (synth's 7B shapes).
void write_model_gguf(const Model& model, const std::string& path, GgmlType weight_type,
                      const MatrixSource& source = {});

// Adds the model's float tensors with their GGUF names and conventions (matrices as weight_type). With
// linears = false, the per-layer linears' weights and biases are left out (the prepared writer adds
// its own). Transformed copies live in `scratch`, which must outlive writer.write().
// With matrices = false, the embedding and output head are left out too (only norms and biases).
void add_float_tensors(const Model& model, GgufWriter& writer, GgmlType weight_type, bool linears,
                       std::list<std::vector<float>>& scratch, bool matrices = true,
                       const MatrixSource& source = {});

// Llama 3 RoPE scaling as per-pair divisors of the rotary frequencies, as llama.cpp's converter computes
// them for rope_freqs.weight.
std::vector<float> llama3_rope_freq_factors(const ModelConfig& config);
// Adds rope_freqs.weight when the config has precomputed divisors or Llama 3 scaling (GGUF has no
// llama3 scaling type).
void add_rope_freqs_tensor(const ModelConfig& config, GgufWriter& writer);

// Writes FOLDER/config.json, FOLDER/model.safetensors (F32) and, when the model has a tokenizer,
// tokenizer.json + tokenizer_config.json; creates FOLDER if needed.
void write_model_hf(const Model& model, const std::string& folder);

// Reorders the rows of a Q or K projection (or bias: cols = 1) between RoPE layouts, head by head.
// Interleaved pair (2i, 2i+1) corresponds to half-split pair (i, i + head_dim/2).
std::vector<float> permute_rope_rows(const float* w, int n_heads, int head_dim, int cols, RopeLayout from,
                                     RopeLayout to);

}  // namespace llmnpu
