#include "model/load_hf_config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "format/json_document.h"

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
  const json j = parse_json_document(text, "'" + where + "'");
  check(j.is_object(), "'", where, "' is not a JSON object");
  auto archs = j.find("architectures");
  check(archs != j.end() && archs->is_array() && !archs->empty() && (*archs)[0].is_string(), "'", where,
        "' has no 'architectures' list");
  const std::string arch = (*archs)[0].get<std::string>();

  ModelConfig c;
  const bool gemma = arch == "GemmaForCausalLM" || arch == "Gemma2ForCausalLM";
  if (arch == "LlamaForCausalLM" || arch == "MistralForCausalLM") {
    c.arch = "llama";
  } else if (arch == "Qwen2ForCausalLM") {
    c.arch = "qwen2";
    c.qkv_bias = true;
  } else if (arch == "Qwen3ForCausalLM") {
    c.arch = "qwen3";
    c.qk_norm = true;  // per-head RMSNorm of q and k before RoPE; no q/k/v biases
  } else if (gemma) {
    c.arch = arch == "GemmaForCausalLM" ? "gemma" : "gemma2";
    c.norm_weight_offset = 1.0f;  // Gemma's RMSNorm multiplies by (1 + w)
  } else if (arch == "PhiForCausalLM") {
    c.arch = "phi2";
    c.norm_kind = NormKind::Layer;
    c.parallel_block = true;
    c.ffn_gated = false;
    c.linear_biases = true;
    c.qkv_bias = true;
  } else if (arch == "Phi3ForCausalLM") {
    c.arch = "phi3";
  } else {
    fail("'", where, "': architecture '", arch,
         "' is not supported (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, "
         "GemmaForCausalLM, Gemma2ForCausalLM, PhiForCausalLM, Phi3ForCausalLM are)");
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
  c.norm_eps = c.norm_kind == NormKind::Layer ? get_real(j, "layer_norm_eps", where, 1e-5f)
                                              : get_real(j, "rms_norm_eps", where, 1e-6f);
  c.rope_base = get_real(j, "rope_theta", where, 10000.0f);
  // Gemma ties its head to the embedding unless told otherwise; the others untie by default.
  c.tied_output = get_bool(j, "tie_word_embeddings", where, gemma);
  check(get_bool(j, "attention_bias", where, false) == false, "'", where,
        "': attention_bias is not supported for this architecture");
  check(!get_bool(j, "qk_layernorm", where, false), "'", where, "': qk_layernorm is not supported");
  const double rotary = get_real(j, "partial_rotary_factor", where, 1.0f);
  check(rotary > 0 && rotary <= 1, "'", where, "': partial_rotary_factor must be in (0, 1]");
  if (rotary < 1) {
    c.rotary_dims = int(double(c.head_dim) * rotary + 1e-9);  // HF truncates; 80 * 0.4 is 32
    check(c.rotary_dims >= 2 && c.rotary_dims % 2 == 0, "'", where, "': partial_rotary_factor ", rotary,
          " gives an odd number of rotary dimensions");
  }

  // The MLP activation: Gemma's is the tanh GELU whatever hidden_act says (as llama.cpp and HF's
  // hidden_activation do); Phi-2's gelu_new is the tanh GELU too.
  std::string act = "silu";
  for (const char* key : {"hidden_activation", "hidden_act"}) {
    auto a = j.find(key);
    if (a != j.end() && a->is_string()) {
      act = a->get<std::string>();
      break;
    }
  }
  if (gemma) {
    c.ffn_activation = FfnActivation::GeluTanh;
    c.embedding_scale = std::sqrt(float(c.dim));
  } else if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
    c.ffn_activation = FfnActivation::GeluTanh;
  } else if (act == "gelu") {
    c.ffn_activation = FfnActivation::Gelu;
  } else {
    check(act == "silu" || act == "swish", "'", where, "': hidden activation '", act,
          "' is not supported (silu, gelu, gelu_new, gelu_pytorch_tanh are)");
  }
  check(
      c.arch == "phi2" || c.arch == "gemma" || c.arch == "gemma2" || c.ffn_activation == FfnActivation::SiLU,
      "'", where, "': hidden activation '", act, "' is not supported for ", arch);
  if (c.arch == "gemma2") {
    // Softcaps (null: none), post-norms, the window on every other layer, and the query scale.
    auto cap = [&](const char* key, float fallback) {
      auto it = j.find(key);
      if (it != j.end() && it->is_null()) return 0.0f;
      const float v = get_real(j, key, where, fallback);
      check(v >= 0, "'", where, "': '", key, "' must not be negative");
      return v;
    };
    c.attn_logit_softcap = cap("attn_logit_softcapping", 50.0f);
    c.final_logit_softcap = cap("final_logit_softcapping", 30.0f);
    c.post_norms = true;
    c.sliding_window_pattern = 2;
    const float scalar = get_real(j, "query_pre_attn_scalar", where, float(c.head_dim));
    check(scalar > 0, "'", where, "': query_pre_attn_scalar must be positive");
    if (scalar != float(c.head_dim)) c.attention_scale = float(1.0 / std::sqrt(double(scalar)));
  }
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

namespace {

// Every field the forward pass reads, except the RoPE layout and norm offset (the writer converts
// those): a written config must read back to the same function.
bool same_function(const ModelConfig& a, const ModelConfig& b) {
  auto near = [](float x, float y) { return std::fabs(x - y) <= 1e-6f * std::max(1.0f, std::fabs(x)); };
  return a.dim == b.dim && a.n_layers == b.n_layers && a.n_heads == b.n_heads &&
         a.n_kv_heads == b.n_kv_heads && a.head_dim == b.head_dim && a.ffn_dim == b.ffn_dim &&
         a.vocab_size == b.vocab_size && near(a.norm_eps, b.norm_eps) && near(a.rope_base, b.rope_base) &&
         a.rope_scaling == b.rope_scaling &&
         (a.rope_scaling == RopeScaling::None || (near(a.rope_scaling_factor, b.rope_scaling_factor) &&
                                                  (a.rope_scaling != RopeScaling::Llama3 ||
                                                   (near(a.rope_low_freq_factor, b.rope_low_freq_factor) &&
                                                    near(a.rope_high_freq_factor, b.rope_high_freq_factor) &&
                                                    a.rope_original_context == b.rope_original_context)))) &&
         a.rope_freq_factors == b.rope_freq_factors && a.qkv_bias == b.qkv_bias &&
         a.tied_output == b.tied_output && a.ffn_activation == b.ffn_activation &&
         a.ffn_gated == b.ffn_gated && a.norm_kind == b.norm_kind && a.linear_biases == b.linear_biases &&
         near(a.embedding_scale, b.embedding_scale) && a.parallel_block == b.parallel_block &&
         (a.rotary_dims == b.rotary_dims || (a.rotary_dims == 0 && b.rotary_dims == a.head_dim) ||
          (b.rotary_dims == 0 && a.rotary_dims == b.head_dim)) &&
         a.sliding_window == b.sliding_window &&
         (a.sliding_window == 0 || a.sliding_window_pattern == b.sliding_window_pattern) &&
         a.post_norms == b.post_norms && a.qk_norm == b.qk_norm &&
         near(a.attn_logit_softcap, b.attn_logit_softcap) &&
         near(a.final_logit_softcap, b.final_logit_softcap) && near(a.attention_scale, b.attention_scale);
}

}  // namespace

std::string hf_config_json(const ModelConfig& c) {
  nlohmann::ordered_json j;
  const std::string& a = c.arch;
  const bool mistral = a == "llama" && c.sliding_window > 0;
  const std::pair<const char*, const char*> names =
      a == "llama"
          ? std::pair{mistral ? "MistralForCausalLM" : "LlamaForCausalLM", mistral ? "mistral" : "llama"}
      : a == "qwen2"  ? std::pair{"Qwen2ForCausalLM", "qwen2"}
      : a == "qwen3"  ? std::pair{"Qwen3ForCausalLM", "qwen3"}
      : a == "gemma"  ? std::pair{"GemmaForCausalLM", "gemma"}
      : a == "gemma2" ? std::pair{"Gemma2ForCausalLM", "gemma2"}
      : a == "phi2"   ? std::pair{"PhiForCausalLM", "phi"}
      : a == "phi3"   ? std::pair{"Phi3ForCausalLM", "phi3"}
                      : std::pair{"", ""};
  check(*names.first != 0, "cannot write a Hugging Face config for architecture '", a, "'");
  j["architectures"] = {names.first};
  j["model_type"] = names.second;
  j["hidden_size"] = c.dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.n_kv_heads;
  j["head_dim"] = c.head_dim;
  j["intermediate_size"] = c.ffn_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_seq_len;
  j[c.norm_kind == NormKind::Layer ? "layer_norm_eps" : "rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_base;
  if (c.rotary_dims > 0 && c.rotary_dims < c.head_dim)
    j["partial_rotary_factor"] = double(c.rotary_dims) / double(c.head_dim);
  j["tie_word_embeddings"] = c.tied_output;
  j["hidden_act"] = c.ffn_activation == FfnActivation::SiLU ? "silu"
                    : c.ffn_activation == FfnActivation::Gelu
                        ? "gelu"
                        : (a == "phi2" ? "gelu_new" : "gelu_pytorch_tanh");
  if (a == "gemma" || a == "gemma2") j["hidden_activation"] = "gelu_pytorch_tanh";
  if (c.sliding_window > 0) j["sliding_window"] = c.sliding_window;
  if (a == "gemma2") {
    j["attn_logit_softcapping"] =
        c.attn_logit_softcap > 0 ? nlohmann::ordered_json(c.attn_logit_softcap) : nullptr;
    j["final_logit_softcapping"] =
        c.final_logit_softcap > 0 ? nlohmann::ordered_json(c.final_logit_softcap) : nullptr;
    j["query_pre_attn_scalar"] = c.attention_scale > 0
                                     ? double(1.0 / (double(c.attention_scale) * c.attention_scale))
                                     : double(c.head_dim);
  }
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
  std::string text = j.dump(2) + "\n";
  check(same_function(c, parse_hf_config(text, "config.json")),
        "cannot write a Hugging Face config: ", names.first,
        " cannot express this model's options (e.g. biases, norms or windows its family lacks)");
  return text;
}

}  // namespace llmnpu
