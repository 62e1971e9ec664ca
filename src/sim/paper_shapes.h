#pragma once
// Shapes of the paper's evaluation models that the simulator knows by name (no weights: only the
// config the cost model needs), beside the synthetic shapes of model/synth.h.
#include <string>
#include <vector>

#include "model/config.h"

namespace llmnpu::sim {

struct PaperShape {
  std::string name;
  ModelConfig config;
};

const std::vector<PaperShape>& paper_shapes();  // "qwen1.5-1.8b"

// A synthetic shape (model/synth.h) or a paper shape; throws Error listing both kinds of names.
ModelConfig find_sim_shape(const std::string& name);

}  // namespace llmnpu::sim
