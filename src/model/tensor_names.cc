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
};

const Names& names_of(TensorRole role) {
  for (const auto& n : kNames)
    if (n.role == role) return n;
  fail("unknown tensor role ", int(role));
}

}  // namespace

bool is_layer_role(TensorRole role) {
  return role != TensorRole::TokenEmbedding && role != TensorRole::OutputNorm && role != TensorRole::Output;
}

std::string tensor_name(NameScheme scheme, TensorRole role, int layer) {
  const Names& n = names_of(role);
  const bool per_layer = is_layer_role(role);
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
    case TensorRole::FfnNorm: return {U(c.dim)};
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
  std::vector<TensorRole> roles = {TensorRole::AttnNorm, TensorRole::Wq, TensorRole::Wk, TensorRole::Wv};
  if (c.qkv_bias) roles.insert(roles.end(), {TensorRole::Bq, TensorRole::Bk, TensorRole::Bv});
  roles.insert(roles.end(),
               {TensorRole::Wo, TensorRole::FfnNorm, TensorRole::Gate, TensorRole::Up, TensorRole::Down});
  return roles;
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

}  // namespace llmnpu
