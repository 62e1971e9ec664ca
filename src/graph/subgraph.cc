#include "graph/subgraph.h"

#include "core/error.h"

namespace llmnpu {

const char* op_name(SubgraphOp op) {
  switch (op) {
    case SubgraphOp::Qkv: return "qkv";
    case SubgraphOp::Attention: return "attn";
    case SubgraphOp::OMlp: return "omlp";
    case SubgraphOp::Head: return "head";
  }
  return "?";
}

const char* role_name(Role role) { return role == Role::Accelerator ? "accelerator" : "host"; }

std::string Subgraph::name() const {
  return layer < 0 ? std::string(op_name(op)) : str("L", layer, ".", op_name(op));
}

std::vector<Subgraph> build_chunk_subgraphs(int n_layers, bool quantized) {
  std::vector<Subgraph> list;
  Role static_role = quantized ? Role::Accelerator : Role::Host;
  auto add = [&](int layer, SubgraphOp op, Role role, bool is_static) {
    list.push_back({int(list.size()), layer, op, role, is_static});
  };
  for (int l = 0; l < n_layers; ++l) {
    add(l, SubgraphOp::Qkv, static_role, true);
    add(l, SubgraphOp::Attention, Role::Host, false);
    add(l, SubgraphOp::OMlp, static_role, true);
  }
  // The output head runs on the host: fp32 for a float model; for a prepared one an int8 head with
  // per-block scales on both sides for the rows that need logits (Int8Head), fp32 for every-row logits.
  add(-1, SubgraphOp::Head, Role::Host, true);
  return list;
}

}  // namespace llmnpu
