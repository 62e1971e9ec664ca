// Hugging Face folders: config.json + model.safetensors (or shards with model.safetensors.index.json).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "format/safetensors.h"
#include "model/load_common.h"
#include "model/load_hf_config.h"

namespace llmnpu {

std::unique_ptr<Model> load_hf_model(const std::string& folder) {
  namespace fs = std::filesystem;
  const std::string config_path = (fs::path(folder) / "config.json").string();
  std::ifstream in(config_path);
  check(in.good(), "'", folder, "' has no readable config.json");
  std::stringstream text;
  text << in.rdbuf();

  auto model = std::make_unique<Model>();
  model->format = "hf";
  model->path = folder;
  model->config = parse_hf_config(text.str(), config_path);
  model->config.name = fs::path(folder).lexically_normal().filename().string();
  if (model->config.name.empty())
    model->config.name = fs::path(folder).lexically_normal().parent_path().filename();
  model->config.validate();

  auto set = std::make_shared<SafetensorsSet>(folder);
  TensorTable table;
  for (const SafetensorsTensor* t : set->tensors())
    table.add({t->name, t->dtype, t->float_readable, t->type, t->shape, t->data, t->nbytes});
  assemble_weights(*model, table, NameScheme::HuggingFace);
  model->keep_alive.push_back(set);
  return model;
}

}  // namespace llmnpu
