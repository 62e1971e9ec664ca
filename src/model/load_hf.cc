// Hugging Face folders: config.json + model.safetensors (or shards with model.safetensors.index.json).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "format/safetensors.h"
#include "model/load_common.h"
#include "model/load_hf_config.h"

namespace llmnpu {

std::unique_ptr<Model> load_hf_model(const std::string& folder, bool stream_matrices) {
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
  const ModelConfig& c = model->config;
  for (const SafetensorsTensor* t : set->tensors()) {
    SourceTensor source{t->name, t->dtype, t->float_readable, t->type, t->shape, t->data, t->nbytes};
    // Phi-3 stores Q|K|V and gate|up fused: each part is a run of whole rows.
    auto stem = [&](const char* suffix) { return t->name.substr(0, t->name.size() - std::strlen(suffix)); };
    if (c.arch == "phi3" && t->name.ends_with("self_attn.qkv_proj.weight")) {
      const std::string p = stem("qkv_proj.weight");
      split_rows(table, source,
                 {{p + "q_proj.weight", c.q_dim()},
                  {p + "k_proj.weight", c.kv_dim()},
                  {p + "v_proj.weight", c.kv_dim()}});
    } else if (c.arch == "phi3" && t->name.ends_with("mlp.gate_up_proj.weight")) {
      const std::string p = stem("gate_up_proj.weight");
      split_rows(table, source, {{p + "gate_proj.weight", c.ffn_dim}, {p + "up_proj.weight", c.ffn_dim}});
    } else {
      table.add(std::move(source));
    }
  }
  assemble_weights(*model, table, NameScheme::HuggingFace, stream_matrices);
  model->keep_alive.push_back(set);
  return model;
}

}  // namespace llmnpu
