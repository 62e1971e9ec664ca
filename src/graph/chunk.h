#pragma once
// One chunk of prompt tokens in flight, with the activation buffers its subgraphs read and write.
// Each chunk owns its buffers, so several chunks can be at different subgraphs at the same time.
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace llmnpu {

struct Chunk {
  int index = 0;            // chunk number within the prompt
  int pos0 = 0;             // position of its first token
  int T = 0;                // real tokens
  int rows = 0;             // rows computed (T, or the fixed chunk length when padded)
  bool all_logits = false;  // Head computes every real row (perplexity) or only the last one
  std::vector<int32_t> tokens;

  std::vector<float> x;        // [rows][dim] residual stream
  std::vector<float> xb;       // [rows][dim] normed input of a linear
  std::vector<float> qkv;      // [rows][q_dim + 2 kv_dim]
  std::vector<float> att;      // [rows][q_dim]
  std::vector<float> gate_up;  // [rows][2 ffn_dim]: gate | up, then silu(gate) * up over the gate half
  std::vector<float> logits;   // [1 or T][vocab]

  void allocate(const ModelConfig& c, int rows);
  // Frees the activation buffers once the chunk is done (its logits stay).
  void release_activations();
};

}  // namespace llmnpu
