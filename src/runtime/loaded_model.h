#pragma once
// A model ready to run: its weights, the graph that runs them (float, or the prepared W8A8 graph for a
// file written by `llmnpu prepare`) and an engine (KV cache, threads) sized for the context.
#include <memory>
#include <string>

#include "graph/model_graph.h"
#include "model/model.h"
#include "runtime/engine.h"

namespace llmnpu {

struct ModelLoadOptions {
  std::string model_path;      // GGUF file, Hugging Face folder, llama2.c .bin, or a prepared GGUF
  std::string tokenizer_path;  // optional: a tokenizer to use instead of the model's
  int threads = 0;             // 0 = all cores
  int context = 0;             // 0 = the model's context length
  bool check_memory = true;    // refuse, before loading, a model the machine lacks the memory to run
};

// Weights and graph, shareable: several engines (sessions) may run one loaded model.
struct SharedModel {
  std::shared_ptr<Model> model;
  std::shared_ptr<ModelGraph> graph;
};

struct LoadedModel {
  std::shared_ptr<Model> model;
  std::shared_ptr<ModelGraph> graph;
  std::unique_ptr<Engine> engine;
};

// Throws Error with a clear message on any problem (missing file, unknown format, bad shapes).
SharedModel load_weights(const std::string& model_path, const std::string& tokenizer_path = "");
// An engine (KV cache of `context` tokens, 0 = the model's; `threads`, 0 = all cores) on shared weights.
LoadedModel attach_engine(const SharedModel& weights, int threads, int context);
// Checks the memory first (runtime/memory_estimate.h) unless options.check_memory is false.
LoadedModel load_for_inference(const ModelLoadOptions& options);

}  // namespace llmnpu
