#include "model/config.h"

#include "core/error.h"

namespace llmnpu {

void ModelConfig::validate() const {
  check(dim > 0 && n_layers > 0 && n_heads > 0 && n_kv_heads > 0 && head_dim > 0 && ffn_dim > 0 &&
            vocab_size > 0,
        "model config has a zero or negative size (dim ", dim, ", layers ", n_layers, ", heads ", n_heads,
        ", kv heads ", n_kv_heads, ", head dim ", head_dim, ", ffn ", ffn_dim, ", vocab ", vocab_size, ")");
  check(n_heads % n_kv_heads == 0, "model config: ", n_heads, " heads are not a multiple of ", n_kv_heads,
        " kv heads");
  check(head_dim % 2 == 0, "model config: head dimension ", head_dim, " is odd (RoPE needs pairs)");
  check(dim <= (1 << 16) && ffn_dim <= (1 << 18) && n_layers <= 1024 && vocab_size <= (1 << 22) &&
            head_dim <= 1024 && n_heads <= 1024,
        "model config sizes are implausibly large");
  check(max_seq_len > 0, "model config: context length must be positive");
  check(norm_eps > 0 && norm_eps < 1, "model config: norm epsilon ", norm_eps, " is out of range");
  check(rotary_dims >= 0 && rotary_dims <= head_dim && rotary_dims % 2 == 0, "model config: rotary dims ",
        rotary_dims, " must be even and at most the head dimension ", head_dim);
  check(sliding_window >= 0, "model config: sliding window ", sliding_window, " is negative");
  check(attn_logit_softcap >= 0 && final_logit_softcap >= 0 && attention_scale >= 0 && embedding_scale > 0,
        "model config: softcaps, attention scale and embedding scale must not be negative");
  check(rope_base > 1, "model config: rope base ", rope_base, " is out of range");
}

}  // namespace llmnpu
