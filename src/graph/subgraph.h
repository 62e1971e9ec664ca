#pragma once
// The unit of scheduling: a run of a layer program's ops, cut where the ops change from
// position-independent (static: norms, linears, activations, adds; int8-capable and shared by every
// chunk) to position-dependent (dynamic: RoPE and attention over the KV cache, made per chunk). For a
// Llama layer that gives
//   L3.qkv   static  : norm, Q/K/V projection
//   L3.attn  dynamic : RoPE, KV-cache append, causal attention
//   L3.omlp  static  : O projection + residual, norm, gated MLP + residual
// and the chunk ends with the head (static: final norm, output projection of the rows that need logits).
// Static subgraphs depend only on the chunk length, so one compiled instance serves every chunk.
#include <string>
#include <vector>

#include "graph/program.h"
#include "model/config.h"

namespace llmnpu {

enum class Role { Accelerator, Host };  // accelerator: integer static graphs; host: float, anything

struct Subgraph {
  int index = 0;             // position in the per-chunk order
  int layer = -1;            // -1 for the head
  std::string kind = "qkv";  // "qkv", "attn", "omlp", "head" (or "s<k>" for further segments)
  Role role = Role::Host;
  bool is_static = true;
  bool head = false;           // runs only for chunks whose logits are wanted, on those rows
  bool chains_chunks = false;  // reads the cache written by the previous chunk's same subgraph
  std::vector<Op> ops;

  std::string name() const;  // "L3.qkv", "L3.attn", "L3.omlp", "head"
  bool has_linear() const;
  int shadow_ops() const;  // host work this accelerator subgraph hands out while it runs
};

const char* role_name(Role role);

// The per-chunk subgraph list of a program; `quantized` puts static subgraphs with linears on the
// accelerator (the head stays on the host).
std::vector<Subgraph> build_chunk_subgraphs(const ModelProgram& program, bool quantized);
// The same for the program build_model_program(config) makes; quantized: every layer linear keeps its
// shadow path (what the simulator assumes without a prepared file).
std::vector<Subgraph> build_chunk_subgraphs(const ModelConfig& config, bool quantized);

}  // namespace llmnpu
