#pragma once
// Writes a loaded model back to disk, as GGUF or as a Hugging Face folder, so that both files describe
// the same function: Q/K rows are permuted to the RoPE layout each target expects (GGUF "llama":
// Interleaved, GGUF "qwen2" and HF: HalfSplit).
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

void write_model_gguf(const Model& model, const std::string& path, GgmlType weight_type);

// Writes FOLDER/config.json and FOLDER/model.safetensors (F32), creating FOLDER if needed.
void write_model_hf(const Model& model, const std::string& folder);

// Reorders the rows of a Q or K projection (or bias: cols = 1) between RoPE layouts, head by head.
// Interleaved pair (2i, 2i+1) corresponds to half-split pair (i, i + head_dim/2).
std::vector<float> permute_rope_rows(const float* w, int n_heads, int head_dim, int cols, RopeLayout from,
                                     RopeLayout to);

}  // namespace llmnpu
