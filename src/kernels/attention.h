#pragma once
// Causal grouped-query attention over a KV cache, prefill and decode in one function.
//
// Queries: T tokens at positions [q_start, q_start + T), q[t * q_row_stride + h * head_dim + d].
// Cache: key/value of position p for kv head g at k[g * kv_head_stride + p * kv_pos_stride + d] (same
//   strides for v). The recommended layout is [kv_head][position][head_dim] (kv_pos_stride = head_dim,
//   kv_head_stride = capacity * head_dim) so one head streams contiguously; [position][kv_head][head_dim]
//   works too (kv_pos_stride = n_kv_heads * head_dim, kv_head_stride = head_dim).
//   Positions [0, q_start + T) must be filled (the chunk's own keys included).
// Query head h reads kv head h / (n_heads / n_kv_heads). Query at position p sees keys 0..p.
// Output: out[t * out_row_stride + h * head_dim + d].
#include <cstddef>

namespace llmnpu {
class ThreadPool;
}

namespace llmnpu::kernels {

struct AttentionArgs {
  const float* q = nullptr;
  size_t q_row_stride = 0;
  int T = 0;        // query tokens in this chunk
  int q_start = 0;  // position of the first query token
  const float* k = nullptr;
  const float* v = nullptr;
  size_t kv_head_stride = 0;
  size_t kv_pos_stride = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  float* out = nullptr;
  size_t out_row_stride = 0;
  float scale = 0.0f;  // 0 = 1/sqrt(head_dim)
  int window = 0;      // sliding window: the query at p sees keys (p - window, p]; 0 = all of 0..p
  float softcap = 0;   // scores (after scale) = softcap * tanh(scores / softcap); 0 = none
};

// Flash-attention style: tiles of queries x tiles of keys, online softmax. Throws llmnpu::Error on
// inconsistent head counts.
void causal_attention(const AttentionArgs& args, ThreadPool* pool = nullptr);

// Plain loops (double accumulation, two-pass softmax), for tests.
void causal_attention_reference(const AttentionArgs& args);

}  // namespace llmnpu::kernels
