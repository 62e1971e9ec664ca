#include "backend/float_graph.h"

#include "backend/float_linear.h"

namespace llmnpu {

ModelGraph build_float_graph(const Model& model) {
  const ModelConfig& c = model.config;
  ModelGraph g = build_graph_from_weights(model, [](const float* w, const float* b, int in, int out) {
    return std::make_unique<FloatLinear>(w, b, in, out);
  });
  g.head = std::make_unique<FloatLinear>(model.weights.output, model.weights.output_b, c.dim, c.vocab_size);
  bind_program(g, model, false);
  g.describe = "fp32 (host)";
  return g;
}

}  // namespace llmnpu
