#pragma once
// What the simulator runs: a model's config and its per-chunk subgraphs, from a model file (float or
// prepared) or a named synthetic shape (ours or the paper's), with the weights only when a real run needs
// them (validation).
#include <memory>
#include <string>

#include "graph/model_graph.h"
#include "model/model.h"

namespace llmnpu::sim {

struct Workload {
  std::unique_ptr<Model> model;  // only when loaded or synthesized (validation runs it)
  std::unique_ptr<ModelGraph> graph;
  ModelConfig config;
  bool quantized = false;  // qkv/omlp int8 on the accelerator
  std::string label;       // "PATH (name)" or "synthetic shape NAME"
};

// Exactly one of model_path and shape. format: auto (from the model; w8a8 for a shape), w8a8 or float; it
// cannot change what a real run (need_weights) executes. Throws Error with a clear message, also when the
// weights a real run needs look larger than the available memory (unless memory_check is false).
Workload load_workload(const std::string& model_path, const std::string& shape, const std::string& format,
                       bool need_weights, bool memory_check = true);

// The synthetic shapes a workload may name: synth's and the paper's (those without --validate).
std::string workload_shape_names();

}  // namespace llmnpu::sim
