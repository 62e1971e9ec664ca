#pragma once
// Hugging Face config.json <-> ModelConfig, for LlamaForCausalLM, MistralForCausalLM and
// Qwen2ForCausalLM. HF checkpoints keep Q/K rows in the rotate_half order: RopeLayout::HalfSplit.
#include <string>

#include "model/config.h"

namespace llmnpu {

// `where` names the file in error messages. Throws Error for unknown architectures or bad values.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& where);
// A config.json that parse_hf_config reads back to the same config.
std::string hf_config_json(const ModelConfig& config);

}  // namespace llmnpu
