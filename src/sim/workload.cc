#include "sim/workload.h"

#include "backend/float_graph.h"
#include "backend/prepared_graph.h"
#include "core/error.h"
#include "model/loader.h"
#include "model/synth.h"
#include "runtime/memory_estimate.h"
#include "sim/paper_shapes.h"
#include "tokenizer/vocab.h"

namespace llmnpu::sim {

Workload load_workload(const std::string& model_path, const std::string& shape, const std::string& format,
                       bool need_weights, bool memory_check) {
  check(model_path.empty() != shape.empty(), "give one of -m MODEL or --shape NAME");
  check(format == "auto" || format == "w8a8" || format == "float", "unknown format '", format,
        "' (auto, w8a8, float)");
  Workload w;
  if (!model_path.empty()) {
    if (memory_check && need_weights)
      check_memory(estimate_run_memory(model_path, 1), "--validate on this model");
    if (is_prepared_model(model_path)) {
      PreparedGraph p = load_prepared_model(model_path);
      w.model = std::move(p.model);
      w.graph = std::move(p.graph);
    } else {
      w.model = load_model(model_path);
      w.graph = std::make_unique<ModelGraph>(build_float_graph(*w.model));
    }
    w.config = w.model->config;
    w.quantized = w.graph->quantized;
    check(format == "auto" || !need_weights || (format == "w8a8") == w.quantized,
          "--format cannot change what a real run executes: ", model_path, " is ",
          w.quantized ? "w8a8" : "float");
    if (format != "auto") w.quantized = format == "w8a8";
    w.label = str(model_path, " (", w.config.name, ")");
    return w;
  }
  w.config = find_sim_shape(shape);
  w.quantized = format != "float";
  w.label = str("synthetic shape ", shape);
  if (need_weights) {
    check(format != "w8a8",
          "--validate on a synthetic shape runs its float model; for W8A8 give -m with a prepared file");
    SynthOptions so;
    so.shape = shape;
    // The float model is held whole: a 7B shape is refused here rather than killed halfway.
    if (memory_check) check_memory(estimate_synth_memory(so), str("--validate on ", shape));
    w.model = synthesize_model(so, builtin_byte_vocab());
    w.graph = std::make_unique<ModelGraph>(build_float_graph(*w.model));
    w.quantized = false;
  }
  return w;
}

std::string workload_shape_names() {
  std::string names;
  for (const auto& s : synth_shapes()) names += (names.empty() ? "" : ", ") + s.name;
  for (const auto& s : paper_shapes()) {
    bool synthesized = false;  // a paper shape that synth also makes keeps --validate
    for (const auto& t : synth_shapes()) synthesized = synthesized || t.name == s.name;
    if (!synthesized) names += ", " + s.name + " (no --validate)";
  }
  return names;
}

}  // namespace llmnpu::sim
