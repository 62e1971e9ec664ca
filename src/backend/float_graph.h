#pragma once
// Builds the float reference graph of a model: every linear is an fp32 FloatLinear on the host.
#include "graph/model_graph.h"

namespace llmnpu {

ModelGraph build_float_graph(const Model& model);

}  // namespace llmnpu
