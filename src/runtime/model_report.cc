#include "runtime/model_report.h"

#include <charconv>
#include <cstdlib>

#include "backend/prepared_graph.h"
#include "backend/prepared_layout.h"
#include "format/gguf.h"
#include "graph/sharing_report.h"
#include "model/loader.h"
#include "runtime/loaded_model.h"
#include "runtime/task_graph.h"

namespace llmnpu {
namespace {

using ojson = nlohmann::ordered_json;

const char* layout_name(RopeLayout l) { return l == RopeLayout::Interleaved ? "interleaved" : "half-split"; }
const char* scaling_name(RopeScaling s) {
  switch (s) {
    case RopeScaling::None: return "none";
    case RopeScaling::Linear: return "linear";
    case RopeScaling::Llama3: return "llama3";
  }
  return "?";
}

// The shortest decimal that reads back as the float (1e-05, not 9.99999974e-06).
double shortest(float f) {
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof(buf) - 1, f).ptr;
  *end = '\0';
  return std::strtod(buf, nullptr);
}

uint64_t total_bytes(const std::vector<StoredTensor>& tensors) {
  uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes;
  return total;
}

}  // namespace

ojson model_config_json(const ModelConfig& c) {
  return {{"arch", c.arch},
          {"name", c.name},
          {"dim", c.dim},
          {"n_layers", c.n_layers},
          {"n_heads", c.n_heads},
          {"n_kv_heads", c.n_kv_heads},
          {"head_dim", c.head_dim},
          {"ffn_dim", c.ffn_dim},
          {"vocab_size", c.vocab_size},
          {"max_seq_len", c.max_seq_len},
          {"norm_eps", shortest(c.norm_eps)},
          {"rope_base", shortest(c.rope_base)},
          {"rope_layout", layout_name(c.rope_layout)},
          {"rope_scaling", scaling_name(c.rope_scaling)},
          {"rope_scaling_factor", shortest(c.rope_scaling_factor)},
          {"rope_low_freq_factor", shortest(c.rope_low_freq_factor)},
          {"rope_high_freq_factor", shortest(c.rope_high_freq_factor)},
          {"rope_original_context", c.rope_original_context},
          {"qkv_bias", c.qkv_bias},
          {"tied_output", c.tied_output}};
}

ojson model_file_report(const std::string& path, const std::string& tokenizer_path) {
  LoadOptions opts;
  opts.tokenizer_path = tokenizer_path;
  const auto model = load_model(path, opts);
  const auto tensors = list_stored_tensors(path);
  ojson out;
  out["path"] = path;
  out["format"] = model->format;
  out["config"] = model_config_json(model->config);
  out["tokenizer"] = model->tokenizer ? ojson(model->tokenizer->describe()) : nullptr;
  out["tensor_bytes"] = total_bytes(tensors);
  auto& list = out["tensors"] = ojson::array();
  for (const auto& t : tensors)
    list.push_back({{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"bytes", t.bytes}});
  return out;
}

ojson prepared_file_report(const std::string& path, const std::string& tokenizer_path) {
  LoadOptions opts;
  opts.tokenizer_path = tokenizer_path;
  const PreparedGraph prepared = load_prepared_model(path, opts);
  const GgufFile file(path);
  const PreparedLayout layout = prepared_layout(prepared, file);
  const Model& model = *prepared.model;
  const auto tensors = list_stored_tensors(path);
  ojson out;
  out["path"] = path;
  out["format"] = "prepared";
  out["processors"] = prepared.graph->describe;
  out["config"] = model_config_json(model.config);
  out["tokenizer"] = model.tokenizer ? ojson(model.tokenizer->describe()) : nullptr;
  out["tensor_bytes"] = total_bytes(tensors);
  out["tensor_count"] = tensors.size();
  out["prepared_version"] = layout.version;
  auto& settings = out["settings"] = ojson::object();
  for (const auto& [key, value] : layout.settings) settings[key] = value;
  out["int8_weight_bytes"] = layout.int8_bytes;
  out["resident_shadow_bytes"] = layout.resident_bytes;
  out["shadowed_linears"] = layout.shadowed_linears;
  auto& list = out["linears"] = ojson::array();
  for (const PreparedLinearInfo& l : layout.linears)
    list.push_back({{"name", l.name},
                    {"in", l.in},
                    {"out", l.out},
                    {"weight_scales", l.per_channel_weights ? "channel" : "tensor"},
                    {"act_scale", l.act_scale},
                    {"shadow", l.shadow},
                    {"hot_channels", l.hot_channels},
                    {"weight_outliers", l.weight_outliers},
                    {"shadow_row_budget", l.row_entry_budget},
                    {"int8_bytes", l.int8_bytes},
                    {"resident_bytes", l.resident_bytes}});
  return out;
}

ojson model_report(const std::string& path, const std::string& tokenizer_path) {
  return is_prepared_model(path) ? prepared_file_report(path, tokenizer_path)
                                 : model_file_report(path, tokenizer_path);
}

ojson graph_report(const std::string& path, const std::string& tokenizer_path, int prompt, int chunk) {
  ModelLoadOptions mo;
  mo.model_path = path;
  mo.tokenizer_path = tokenizer_path;
  mo.threads = 1;
  mo.context = 1;
  const LoadedModel lm = load_for_inference(mo);
  const SharingReport r =
      sharing_report(*lm.graph, lm.model->config, prompt, chunk, kDefaultMaxChunksInFlight);
  const ModelProgram& program = lm.graph->program;
  ojson out;
  out["model"] = path;
  out["weights"] = lm.graph->describe;
  out["prompt"] = prompt;
  out["chunk"] = chunk;
  out["chunks"] = r.chunks;
  out["subgraphs_per_chunk"] = r.per_chunk_subgraphs;
  out["static_shared"] = r.static_subgraphs;
  out["dynamic_per_chunk"] = r.dynamic_subgraphs;
  out["instances_without_sharing"] = r.instances_without_sharing;
  out["instances_with_sharing"] = r.instances_with_sharing;
  out["shared_weight_bytes"] = r.shared_weight_bytes;
  out["head_weight_bytes"] = r.head_weight_bytes;
  out["chunk_buffer_bytes"] = r.chunk_buffer_bytes;
  out["chunks_in_flight"] = r.chunks_in_flight;
  out["bytes_without_sharing"] = r.bytes_without_sharing;
  out["bytes_with_sharing"] = r.bytes_with_sharing;
  out["saved_share"] = r.saved_share();
  out["layer_program"] = format_program(program);
  auto& list = out["subgraphs"] = ojson::array();
  for (const auto& f : r.footprints) {
    auto ops = ojson::array();
    for (const Op& op : f.subgraph.ops) ops.push_back(format_op(program, op));
    list.push_back({{"name", f.subgraph.name()},
                    {"layer", f.subgraph.layer},
                    {"role", role_name(f.subgraph.role)},
                    {"kind", f.subgraph.is_static ? "static (shared)" : "dynamic (per chunk)"},
                    {"weight_bytes", f.weight_bytes},
                    {"buffer_bytes", f.buffer_bytes},
                    {"ops", ops}});
  }
  auto& tensors = out["tensors"] = ojson::array();
  for (const TensorDecl& t : program.tensors)
    tensors.push_back({{"name", t.name}, {"width", t.width}, {"transient", t.transient}});
  out["embed"] = format_op(program, program.embed);
  return out;
}

}  // namespace llmnpu
