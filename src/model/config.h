#pragma once
// Architecture facts as data. Every difference between model families that the forward pass needs
// is a field here, filled by the loader of each format; compute code never asks "which architecture".
#include <cstdint>
#include <string>
#include <vector>

namespace llmnpu {

// How RoPE pairs the dimensions of a head:
// - Interleaved: (x[2i], x[2i+1]) rotate together (Meta's layout; GGUF "llama", llama2.c).
// - HalfSplit: (x[i], x[i + d/2]) rotate together (HF rotate_half; GGUF "qwen2", "neox").
enum class RopeLayout { Interleaved, HalfSplit };

enum class RopeScaling { None, Linear, Llama3 };

// The MLP's activation (gated: act(gate) * up).
enum class FfnActivation { SiLU, Gelu, GeluTanh };
enum class NormKind { Rms, Layer };  // RMSNorm, or LayerNorm with a bias

struct ModelConfig {
  std::string arch = "llama";  // family name, for display and for writing files back
  std::string name;            // general.name or folder name, for display

  int dim = 0;  // hidden size
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;  // grouped-query attention: n_heads % n_kv_heads == 0
  int head_dim = 0;    // usually dim / n_heads
  int ffn_dim = 0;     // SwiGLU intermediate size
  int vocab_size = 0;
  int max_seq_len = 2048;  // context the model was trained for (default -c)

  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  RopeLayout rope_layout = RopeLayout::Interleaved;
  RopeScaling rope_scaling = RopeScaling::None;
  float rope_scaling_factor = 1.0f;
  float rope_low_freq_factor = 1.0f;   // llama3 scaling
  float rope_high_freq_factor = 4.0f;  // llama3 scaling
  int rope_original_context = 8192;    // llama3 scaling
  // Precomputed per-pair divisors of the rotary frequencies (llama.cpp's rope_freqs.weight, how its
  // converter stores Llama 3 scaling); empty = none.
  std::vector<float> rope_freq_factors;

  bool qkv_bias = false;     // Qwen2 has biases on q, k, v projections
  bool tied_output = false;  // output head shares the token embedding

  // Layer-program options (graph/model_program.cc); the defaults are the Llama layout.
  FfnActivation ffn_activation = FfnActivation::SiLU;
  bool ffn_gated = true;  // act(gate) * up; false: act(up) (Phi-2)
  NormKind norm_kind = NormKind::Rms;
  bool linear_biases = false;        // biases on the output projection, MLP and output head (Phi-2)
  float embedding_scale = 1.0f;      // embeddings multiplied by this (Gemma: sqrt(dim))
  float norm_weight_offset = 0.0f;   // RMSNorm multiplies by (weight + offset) (HF Gemma: 1)
  bool parallel_block = false;       // attention and MLP read the same normed input (one residual add)
  int rotary_dims = 0;               // leading dims of each head that rotate; 0 = head_dim
  int sliding_window = 0;            // a query sees only the last this many keys; 0 = all
  int sliding_window_pattern = 0;    // 0 or 1: every layer has the window; p: layer l iff l % p < p - 1
  bool post_norms = false;           // RMSNorm of the attention and MLP outputs before their residual adds
  bool qk_norm = false;              // RMSNorm of each query and key head before RoPE (Qwen3)
  float attn_logit_softcap = 0.0f;   // attention logits = cap * tanh(logits / cap); 0 = none
  float final_logit_softcap = 0.0f;  // output logits likewise
  float attention_scale = 0.0f;      // q·k scale; 0 = 1 / sqrt(head_dim)

  // The sliding window of layer l (0 = none).
  int window_of(int layer) const {
    if (sliding_window <= 0) return 0;
    return sliding_window_pattern <= 1 || layer % sliding_window_pattern < sliding_window_pattern - 1
               ? sliding_window
               : 0;
  }
  int q_dim() const { return n_heads * head_dim; }
  int kv_dim() const { return n_kv_heads * head_dim; }

  // Throws Error when the numbers cannot describe a working model (zero sizes, heads that do not divide).
  void validate() const;
};

}  // namespace llmnpu
