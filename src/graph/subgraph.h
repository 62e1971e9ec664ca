#pragma once
// The unit of scheduling. Every layer of a chunk becomes three subgraphs, split by data format:
//   Qkv       static  : RMSNorm + fused Q/K/V projection                  (int8 in prepared models)
//   Attention dynamic : RoPE, KV-cache append, causal attention over keys 0..end of this chunk (float)
//   OMlp      static  : O projection + residual, RMSNorm, SwiGLU MLP + residual (int8 in prepared models)
// and the chunk ends with Head (static: final norm + output projection of the rows that need logits).
// Static subgraphs depend only on the chunk length, so one compiled instance serves every chunk;
// dynamic ones depend on the chunk's position (how many keys it attends to) and are made per chunk.
#include <string>
#include <vector>

namespace llmnpu {

enum class SubgraphOp { Qkv, Attention, OMlp, Head };
enum class Role { Accelerator, Host };  // accelerator: integer static graphs; host: float, anything

struct Subgraph {
  int index = 0;   // position in the per-chunk order
  int layer = -1;  // -1 for Head
  SubgraphOp op = SubgraphOp::Qkv;
  Role role = Role::Host;
  bool is_static = true;
  std::string name() const;  // "L3.qkv", "L3.attn", "L3.omlp", "head"
};

const char* op_name(SubgraphOp op);
const char* role_name(Role role);

// The per-chunk subgraph list of an n-layer model; `quantized` puts static subgraphs on the accelerator.
std::vector<Subgraph> build_chunk_subgraphs(int n_layers, bool quantized);

}  // namespace llmnpu
