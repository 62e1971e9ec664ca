#include "graph/subgraph.h"

#include "core/error.h"
#include "graph/model_program.h"

namespace llmnpu {

const char* role_name(Role role) { return role == Role::Accelerator ? "accelerator" : "host"; }

std::string Subgraph::name() const { return layer < 0 ? kind : str("L", layer, ".", kind); }

bool Subgraph::has_linear() const {
  for (const Op& op : ops)
    if (op.kind == OpKind::Linear) return true;
  return false;
}

int Subgraph::shadow_ops() const {
  int n = 0;
  for (const Op& op : ops) n += op.kind == OpKind::Shadow;
  return n;
}

std::vector<Subgraph> build_chunk_subgraphs(const ModelProgram& program, bool quantized) {
  std::vector<Subgraph> list;
  for (size_t l = 0; l < program.layers.size(); ++l) {
    // Runs of ops with the same position dependence; names say where they sit around the attention.
    std::vector<Subgraph> segments;
    for (const Op& op : program.layers[l]) {
      const bool dynamic = op.position_dependent();
      if (segments.empty() || segments.back().is_static == dynamic) {
        Subgraph sg;
        sg.layer = int(l);
        sg.is_static = !dynamic;
        sg.chains_chunks = dynamic;
        segments.push_back(sg);
      }
      segments.back().ops.push_back(op);
    }
    int statics = 0, dynamics = 0;
    for (Subgraph& sg : segments) {
      if (sg.is_static) {
        sg.kind = statics == 0 ? "qkv" : statics == 1 ? "omlp" : str("s", statics);
        ++statics;
        sg.role = quantized && sg.has_linear() ? Role::Accelerator : Role::Host;
      } else {
        sg.kind = dynamics == 0 ? "attn" : str("attn", dynamics);
        ++dynamics;
        sg.role = Role::Host;
      }
      sg.index = int(list.size());
      list.push_back(std::move(sg));
    }
  }
  // The output head runs on the host: fp32 for a float model; for a prepared one an int8 head with
  // per-block scales on both sides for the rows that need logits (Int8Head), fp32 for every-row logits.
  Subgraph head;
  head.index = int(list.size());
  head.kind = "head";
  head.head = true;
  head.role = Role::Host;
  head.ops = program.head;
  list.push_back(std::move(head));
  return list;
}

std::vector<Subgraph> build_chunk_subgraphs(const ModelConfig& config, bool quantized) {
  ModelProgram program = build_model_program(config);
  if (quantized) add_shadow_ops(program, [](const WeightRef&) { return true; });
  return build_chunk_subgraphs(program, quantized);
}

}  // namespace llmnpu
