#pragma once
// Prepared W8A8 models (docs/prepared-format.md): recognising and loading the one-file prepared GGUF
// into a Model (embedding, norms, output head, tokenizer) plus a ModelGraph whose fused linears are
// Int8Linear ops; and the same graph built straight from in-memory prepared data (used by `prepare`
// to measure pruning choices before anything is written).
#include <memory>
#include <string>
#include <vector>

#include "backend/int8_linear.h"
#include "graph/model_graph.h"
#include "model/loader.h"
#include "quant/prepared_model.h"

namespace llmnpu {

// True when PATH is a GGUF file carrying llmnpu.prepared.version (cheap: reads the header only).
bool is_prepared_model(const std::string& path);

struct PreparedGraph {
  std::unique_ptr<Model> model;
  std::unique_ptr<ModelGraph> graph;
  std::vector<Int8Linear*> linears;  // layer-major, slot order (qkv, o, gate_up, down); owned by graph
};

PreparedGraph load_prepared_model(const std::string& path, const LoadOptions& options = {});

// The graph over in-memory prepared linears (which must outlive it); norms and head come from `model`.
// stream_head: when the model's head and embedding are F16 in the mapped source, read them from there a
// block of rows at a time (a streamed FloatLinear) instead of holding an F16 table and an int8 head: for
// prepare's held-out measurement, which asks for every position's logits.
ModelGraph build_prepared_graph(const Model& model, const std::vector<quant::PreparedLinear>& linears,
                                std::vector<Int8Linear*>* ops, bool stream_head = false);

// Resident shadow bytes, int8 weight bytes of a set of linears.
size_t resident_shadow_bytes(const std::vector<Int8Linear*>& ops);
size_t int8_weight_bytes(const std::vector<Int8Linear*>& ops);

}  // namespace llmnpu
