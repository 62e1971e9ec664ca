#pragma once
// Shared pieces of the libFuzzer harnesses (fuzz/*_fuzzer.cc). The parsers read files, so each input is
// written to a per-process scratch folder (on tmpfs when there is one) and parsed from there.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {
struct ModelGraph;
}

namespace llmnpu::fuzz {

// The model shape of the seed corpora: every part of a Llama layer at the smallest useful size.
ModelConfig micro_config();
// micro_config() in the facts of each family (the tiny synth shapes shrunk), for seeds in every layout.
std::vector<std::pair<std::string, ModelConfig>> micro_family_configs();
// config.json for micro_config() (the safetensors harness pairs it with the fuzzed weights file).
std::string seed_config_json();
// A short text in several scripts, with digits, whitespace runs and special-token look-alikes.
const std::string& sample_text();

// This process's scratch folder, created on first use and removed at exit.
const std::string& scratch_dir();
// Writes bytes to scratch_dir()/name and returns the path.
std::string write_scratch(const std::string& name, const uint8_t* data, size_t size);
std::string write_scratch(const std::string& name, const std::string& text);

// Runs a short prefill and one decode step when the model is small enough to do it quickly, so that
// whatever a loader accepted also goes through the engine (threads = 1, a tiny context).
void smoke_forward(const Model& model, const ModelGraph& graph);

// Encodes, decodes and checks round trips where the tokenizer promises them; also decodes arbitrary ids.
void exercise_tokenizer(const Tokenizer& tokenizer, const uint8_t* data, size_t size);

// The tokenizers of ../shared/testdata that exist on this machine, plus the built-in byte-level one.
const std::vector<std::unique_ptr<Tokenizer>>& reference_tokenizers();

}  // namespace llmnpu::fuzz
