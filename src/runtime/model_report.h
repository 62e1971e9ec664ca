#pragma once
// What `llmnpu inspect` shows, as data: a model file's config, tokenizer and stored tensors; a prepared
// file's recorded settings and int8 layout per linear; a model's layer program, its per-chunk subgraphs
// and what chunk sharing saves. Each is one JSON object (keys in a stable order) that tools print as JSON
// or as text.
#include <nlohmann/json.hpp>
#include <string>

#include "model/config.h"

namespace llmnpu {

nlohmann::ordered_json model_config_json(const ModelConfig& config);

// A float model (GGUF, Hugging Face folder, llama2.c): path, format, config, tokenizer, tensors.
nlohmann::ordered_json model_file_report(const std::string& path, const std::string& tokenizer_path = "");
// A prepared W8A8 file: config, processors, prepared_version, settings, linears with their int8 layout.
nlohmann::ordered_json prepared_file_report(const std::string& path, const std::string& tokenizer_path = "");
// Either, by what the file is.
nlohmann::ordered_json model_report(const std::string& path, const std::string& tokenizer_path = "");
// The graph a prompt of `prompt` tokens in chunks of `chunk` runs: layer_program (text), subgraphs (with
// their ops), static/dynamic counts and the memory sharing saves.
nlohmann::ordered_json graph_report(const std::string& path, const std::string& tokenizer_path, int prompt,
                                    int chunk);

}  // namespace llmnpu
