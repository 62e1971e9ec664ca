#pragma once
// The weights a model has, by role, and what each file format calls them.
#include <string>
#include <vector>

#include "model/config.h"

namespace llmnpu {

enum class TensorRole {
  TokenEmbedding,
  OutputNorm,
  Output,
  OutputNormBias,
  OutputBias,  // global
  AttnNorm,
  Wq,
  Wk,
  Wv,
  Bq,
  Bk,
  Bv,
  Wo,
  FfnNorm,
  Gate,
  Up,
  Down,
  PostAttnNorm,
  PostFfnNorm,
  AttnNormBias,
  Bo,
  UpBias,
  DownBias,
  QNorm,
  KNorm,  // per layer
};

enum class NameScheme {
  Gguf,         // token_embd.weight, blk.N.attn_q.weight, ...
  HuggingFace,  // model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ...
  Llama2c,      // our names for the slices of a llama2.c checkpoint: wq[N], rms_att_weight[N], ...
};

bool is_layer_role(TensorRole role);
// Weights and biases of the four per-layer linears (what a prepared model quantizes); not the head.
bool is_linear_role(TensorRole role);
// The tensor's name in a scheme; `layer` is ignored for global roles. Some Hugging Face names depend on
// the architecture (ModelConfig::arch: Gemma 2's norms, Phi-2's dense/fc1/fc2).
std::string tensor_name(NameScheme scheme, TensorRole role, int layer = 0, const std::string& arch = "");
// Expected shape, slowest dimension first ([out][in] for linear layers).
std::vector<uint64_t> expected_shape(const ModelConfig& config, TensorRole role);

// The per-layer roles a config has (biases only when qkv_bias), in file order.
std::vector<TensorRole> layer_roles(const ModelConfig& config);

std::string shape_string(const std::vector<uint64_t>& shape);  // "[64, 512]"

}  // namespace llmnpu
