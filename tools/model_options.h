#pragma once
// Flags shared by the commands that load and run a model (-m, -t, -c, --tokenizer), in llama.cpp's spelling.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "graph/model_graph.h"
#include "model/loader.h"
#include "runtime/engine.h"

namespace llmnpu::cli {

struct ModelOptions {
  std::string model_path;
  std::string tokenizer_path;
  int threads = 0;
  int context = 0;

  void add_to(CLI::App& app);
};

// A loaded model with the graph that runs it and the engine (KV cache, threads).
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<ModelGraph> graph;
  std::unique_ptr<Engine> engine;
};

// Loads the model, builds its graph (float reference, or the prepared W8A8 graph for prepared files),
// and an engine sized for the context. Throws Error with a clear message on any problem.
LoadedModel load_for_inference(const ModelOptions& options);

// Reads a whole text file; throws Error when it cannot (or when it is not valid UTF-8).
std::string read_text_file(const std::string& path);

}  // namespace llmnpu::cli
