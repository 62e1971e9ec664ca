#include "backend/float_graph.h"

#include "backend/float_linear.h"
#include "model/tensor_names.h"

namespace llmnpu {

ModelGraph build_float_graph(const Model& model) {
  ModelGraph g = build_graph_from_weights(
      model, [](const MatrixRef& w, const float* b) { return std::make_unique<FloatLinear>(w, b); });
  g.head = std::make_unique<FloatLinear>(model.matrix(-1, TensorRole::Output), model.weights.output_b);
  bind_program(g, model, false);
  g.describe = "fp32 (host)";
  return g;
}

}  // namespace llmnpu
