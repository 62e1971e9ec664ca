#include "model/load_hf_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmnpu {

namespace {

using json = nlohmann::json;

int get_size(const json& j, const char* key, const std::string& where, int fallback = -1) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    check(fallback >= 0, "'", where, "': missing '", key, "'");
    return fallback;
  }
  check(it->is_number_integer() && it->get<int64_t>() > 0 && it->get<int64_t>() <= (int64_t(1) << 30), "'",
        where, "': '", key, "' must be a positive integer");
  return int(it->get<int64_t>());
}

float get_real(const json& j, const char* key, const std::string& where, float fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  check(it->is_number() && std::isfinite(it->get<double>()), "'", where, "': '", key, "' must be a number");
  return float(it->get<double>());
}

bool get_bool(const json& j, const char* key, const std::string& where, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  check(it->is_boolean(), "'", where, "': '", key, "' must be true or false");
  return it->get<bool>();
}

}  // namespace

ModelConfig parse_hf_config(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  check(!j.is_discarded() && j.is_object(), "'", where, "' is not a JSON object");
  auto archs = j.find("architectures");
  check(archs != j.end() && archs->is_array() && !archs->empty() && (*archs)[0].is_string(), "'", where,
        "' has no 'architectures' list");
  const std::string arch = (*archs)[0].get<std::string>();

  ModelConfig c;
  if (arch == "LlamaForCausalLM" || arch == "MistralForCausalLM") {
    c.arch = "llama";
  } else if (arch == "Qwen2ForCausalLM") {
    c.arch = "qwen2";
    c.qkv_bias = true;
  } else if (arch == "Qwen3ForCausalLM") {
    c.arch = "qwen3";
    c.qk_norm = true;  // per-head RMSNorm of q and k before RoPE; no q/k/v biases
  } else {
    fail("'", where, "': architecture '", arch,
         "' is not supported (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM are)");
  }
  c.rope_layout = RopeLayout::HalfSplit;
  c.dim = get_size(j, "hidden_size", where);
  c.n_layers = get_size(j, "num_hidden_layers", where);
  c.n_heads = get_size(j, "num_attention_heads", where);
  c.n_kv_heads = get_size(j, "num_key_value_heads", where, c.n_heads);
  c.head_dim = get_size(j, "head_dim", where, c.dim / c.n_heads);
  c.ffn_dim = get_size(j, "intermediate_size", where);
  c.vocab_size = get_size(j, "vocab_size", where);
  c.max_seq_len = get_size(j, "max_position_embeddings", where, 2048);
  c.norm_eps = get_real(j, "rms_norm_eps", where, 1e-6f);
  c.rope_base = get_real(j, "rope_theta", where, 10000.0f);
  c.tied_output = get_bool(j, "tie_word_embeddings", where, false);
  check(get_bool(j, "attention_bias", where, false) == false, "'", where,
        "': attention_bias is not supported for this architecture");
  // Mistral's sliding window (null in later Mistral configs); Qwen2 configs carry one with
  // use_sliding_window = false.
  auto window = j.find("sliding_window");
  if (window != j.end() && !window->is_null() && get_bool(j, "use_sliding_window", where, true))
    c.sliding_window = get_size(j, "sliding_window", where);

  auto scaling = j.find("rope_scaling");
  if (scaling != j.end() && !scaling->is_null()) {
    check(scaling->is_object(), "'", where, "': rope_scaling must be an object or null");
    std::string type;
    for (const char* key : {"rope_type", "type"}) {
      auto t = scaling->find(key);
      if (t != scaling->end() && t->is_string()) {
        type = t->get<std::string>();
        break;
      }
    }
    if (type == "linear") {
      c.rope_scaling = RopeScaling::Linear;
      c.rope_scaling_factor = get_real(*scaling, "factor", where, 1.0f);
    } else if (type == "llama3") {
      c.rope_scaling = RopeScaling::Llama3;
      c.rope_scaling_factor = get_real(*scaling, "factor", where, 8.0f);
      c.rope_low_freq_factor = get_real(*scaling, "low_freq_factor", where, 1.0f);
      c.rope_high_freq_factor = get_real(*scaling, "high_freq_factor", where, 4.0f);
      c.rope_original_context = get_size(*scaling, "original_max_position_embeddings", where, 8192);
    } else if (type != "default") {
      fail("'", where, "': rope_scaling type '", type, "' is not supported (linear, llama3 are)");
    }
    check(c.rope_scaling_factor > 0, "'", where, "': rope_scaling factor must be positive");
  }
  return c;
}

std::string hf_config_json(const ModelConfig& c) {
  nlohmann::ordered_json j;
  const bool qwen = c.arch == "qwen2";
  check(qwen || c.arch == "llama", "cannot write a Hugging Face config for architecture '", c.arch, "'");
  check(c.qkv_bias == qwen, "cannot write a Hugging Face config: ", c.arch, " models ",
        qwen ? "need" : "cannot have", " q/k/v biases");
  j["architectures"] = {qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
  j["model_type"] = qwen ? "qwen2" : "llama";
  j["hidden_size"] = c.dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.n_kv_heads;
  j["head_dim"] = c.head_dim;
  j["intermediate_size"] = c.ffn_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_seq_len;
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_base;
  j["tie_word_embeddings"] = c.tied_output;
  j["hidden_act"] = "silu";
  j["torch_dtype"] = "float32";
  if (c.rope_scaling == RopeScaling::Linear) {
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope_scaling_factor}};
  } else if (c.rope_scaling == RopeScaling::Llama3) {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope_scaling_factor},
                         {"low_freq_factor", c.rope_low_freq_factor},
                         {"high_freq_factor", c.rope_high_freq_factor},
                         {"original_max_position_embeddings", c.rope_original_context}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  return j.dump(2) + "\n";
}

}  // namespace llmnpu
