#include "model/tensor_names.h"

#include "core/error.h"

namespace llmnpu {

namespace {

struct Names {
  TensorRole role;
  const char* gguf;
  const char* hf;
  const char* llama2c;
};
// Per-layer names are a prefix + suffix around the layer number.
constexpr Names kNames[] = {
    {TensorRole::TokenEmbedding, "token_embd.weight", "model.embed_tokens.weight", "token_embedding_table"},
    {TensorRole::OutputNorm, "output_norm.weight", "model.norm.weight", "rms_final_weight"},
    {TensorRole::Output, "output.weight", "lm_head.weight", "wcls"},
    {TensorRole::AttnNorm, "attn_norm.weight", "input_layernorm.weight", "rms_att_weight"},
    {TensorRole::Wq, "attn_q.weight", "self_attn.q_proj.weight", "wq"},
    {TensorRole::Wk, "attn_k.weight", "self_attn.k_proj.weight", "wk"},
    {TensorRole::Wv, "attn_v.weight", "self_attn.v_proj.weight", "wv"},
    {TensorRole::Bq, "attn_q.bias", "self_attn.q_proj.bias", "bq"},
    {TensorRole::Bk, "attn_k.bias", "self_attn.k_proj.bias", "bk"},
    {TensorRole::Bv, "attn_v.bias", "self_attn.v_proj.bias", "bv"},
    {TensorRole::Wo, "attn_output.weight", "self_attn.o_proj.weight", "wo"},
    {TensorRole::FfnNorm, "ffn_norm.weight", "post_attention_layernorm.weight", "rms_ffn_weight"},
    {TensorRole::Gate, "ffn_gate.weight", "mlp.gate_proj.weight", "w1"},
    {TensorRole::Up, "ffn_up.weight", "mlp.up_proj.weight", "w3"},
    {TensorRole::Down, "ffn_down.weight", "mlp.down_proj.weight", "w2"},
    // Gemma 2 (GGUF names only: its HF names collide with the Llama ones above).
    {TensorRole::PostAttnNorm, "post_attention_norm.weight", "", ""},
    {TensorRole::PostFfnNorm, "post_ffw_norm.weight", "", ""},
    // Phi-2's LayerNorm and linear biases (GGUF names).
    {TensorRole::OutputNormBias, "output_norm.bias", "", ""},
    {TensorRole::OutputBias, "output.bias", "", ""},
    {TensorRole::AttnNormBias, "attn_norm.bias", "", ""},
    {TensorRole::Bo, "attn_output.bias", "", ""},
    {TensorRole::UpBias, "ffn_up.bias", "", ""},
    {TensorRole::DownBias, "ffn_down.bias", "", ""},
    {TensorRole::QNorm, "attn_q_norm.weight", "self_attn.q_norm.weight", ""},
    {TensorRole::KNorm, "attn_k_norm.weight", "self_attn.k_norm.weight", ""},
};

// Hugging Face names that differ by architecture.
struct HfOverride {
  const char* arch;
  TensorRole role;
  const char* hf;
};
constexpr HfOverride kHfOverrides[] = {
    // Gemma 2: four norms per layer; "post_attention_layernorm" is the attention output's norm.
    {"gemma2", TensorRole::PostAttnNorm, "post_attention_layernorm.weight"},
    {"gemma2", TensorRole::FfnNorm, "pre_feedforward_layernorm.weight"},
    {"gemma2", TensorRole::PostFfnNorm, "post_feedforward_layernorm.weight"},
    // Phi-2 (PhiForCausalLM).
    {"phi2", TensorRole::AttnNormBias, "input_layernorm.bias"},
    {"phi2", TensorRole::Wo, "self_attn.dense.weight"},
    {"phi2", TensorRole::Bo, "self_attn.dense.bias"},
    {"phi2", TensorRole::Up, "mlp.fc1.weight"},
    {"phi2", TensorRole::UpBias, "mlp.fc1.bias"},
    {"phi2", TensorRole::Down, "mlp.fc2.weight"},
    {"phi2", TensorRole::DownBias, "mlp.fc2.bias"},
    {"phi2", TensorRole::OutputNorm, "model.final_layernorm.weight"},
    {"phi2", TensorRole::OutputNormBias, "model.final_layernorm.bias"},
    {"phi2", TensorRole::OutputBias, "lm_head.bias"},
};

const Names& names_of(TensorRole role) {
  for (const auto& n : kNames)
    if (n.role == role) return n;
  fail("unknown tensor role ", int(role));
}

}  // namespace

bool is_layer_role(TensorRole role) {
  return role != TensorRole::TokenEmbedding && role != TensorRole::OutputNorm && role != TensorRole::Output &&
         role != TensorRole::OutputNormBias && role != TensorRole::OutputBias;
}

bool is_linear_role(TensorRole role) {
  switch (role) {
    case TensorRole::Wq:
    case TensorRole::Wk:
    case TensorRole::Wv:
    case TensorRole::Bq:
    case TensorRole::Bk:
    case TensorRole::Bv:
    case TensorRole::Wo:
    case TensorRole::Bo:
    case TensorRole::Gate:
    case TensorRole::Up:
    case TensorRole::UpBias:
    case TensorRole::Down:
    case TensorRole::DownBias: return true;
    default: return false;
  }
}

std::string tensor_name(NameScheme scheme, TensorRole role, int layer, const std::string& arch) {
  const Names& n = names_of(role);
  const bool per_layer = is_layer_role(role);
  if (scheme == NameScheme::HuggingFace)
    for (const auto& o : kHfOverrides)
      if (o.role == role && arch == o.arch) return per_layer ? str("model.layers.", layer, ".", o.hf) : o.hf;
  check((scheme == NameScheme::Gguf          ? *n.gguf
         : scheme == NameScheme::HuggingFace ? *n.hf
                                             : *n.llama2c) != 0,
        "tensor '", n.gguf, "' has no name in this format",
        arch.empty() ? "" : str(" for architecture '", arch, "'"));
  switch (scheme) {
    case NameScheme::Gguf: return per_layer ? str("blk.", layer, ".", n.gguf) : n.gguf;
    case NameScheme::HuggingFace: return per_layer ? str("model.layers.", layer, ".", n.hf) : n.hf;
    case NameScheme::Llama2c: return per_layer ? str(n.llama2c, "[", layer, "]") : n.llama2c;
  }
  fail("unknown name scheme");
}

std::vector<uint64_t> expected_shape(const ModelConfig& c, TensorRole role) {
  using U = uint64_t;
  switch (role) {
    case TensorRole::TokenEmbedding:
    case TensorRole::Output: return {U(c.vocab_size), U(c.dim)};
    case TensorRole::OutputNorm:
    case TensorRole::AttnNorm:
    case TensorRole::PostAttnNorm:
    case TensorRole::PostFfnNorm:
    case TensorRole::OutputNormBias:
    case TensorRole::AttnNormBias:
    case TensorRole::Bo:
    case TensorRole::DownBias:
    case TensorRole::FfnNorm: return {U(c.dim)};
    case TensorRole::UpBias: return {U(c.ffn_dim)};
    case TensorRole::QNorm:
    case TensorRole::KNorm: return {U(c.head_dim)};
    case TensorRole::OutputBias: return {U(c.vocab_size)};
    case TensorRole::Wq: return {U(c.q_dim()), U(c.dim)};
    case TensorRole::Wk:
    case TensorRole::Wv: return {U(c.kv_dim()), U(c.dim)};
    case TensorRole::Bq: return {U(c.q_dim())};
    case TensorRole::Bk:
    case TensorRole::Bv: return {U(c.kv_dim())};
    case TensorRole::Wo: return {U(c.dim), U(c.q_dim())};
    case TensorRole::Gate:
    case TensorRole::Up: return {U(c.ffn_dim), U(c.dim)};
    case TensorRole::Down: return {U(c.dim), U(c.ffn_dim)};
  }
  fail("unknown tensor role ", int(role));
}

std::vector<TensorRole> layer_roles(const ModelConfig& c) {
  std::vector<TensorRole> roles = {TensorRole::AttnNorm};
  if (c.norm_kind == NormKind::Layer) roles.push_back(TensorRole::AttnNormBias);
  roles.insert(roles.end(), {TensorRole::Wq, TensorRole::Wk, TensorRole::Wv});
  if (c.qkv_bias) roles.insert(roles.end(), {TensorRole::Bq, TensorRole::Bk, TensorRole::Bv});
  if (c.qk_norm) roles.insert(roles.end(), {TensorRole::QNorm, TensorRole::KNorm});
  roles.push_back(TensorRole::Wo);
  if (c.linear_biases) roles.push_back(TensorRole::Bo);
  if (!c.parallel_block) roles.push_back(TensorRole::FfnNorm);
  if (c.ffn_gated) roles.push_back(TensorRole::Gate);
  roles.push_back(TensorRole::Up);
  if (c.linear_biases) roles.push_back(TensorRole::UpBias);
  roles.push_back(TensorRole::Down);
  if (c.linear_biases) roles.push_back(TensorRole::DownBias);
  if (c.post_norms) roles.insert(roles.end(), {TensorRole::PostAttnNorm, TensorRole::PostFfnNorm});
  return roles;
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

}  // namespace llmnpu
