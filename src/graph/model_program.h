#pragma once
// The layer program of a model, built from its ModelConfig: the only place that turns architecture
// facts (norm kind, activation, parallel block, RoPE style, sliding window, softcaps) into ops. Backends
// and the reference interpreter run what this returns.
#include "graph/program.h"
#include "model/config.h"

namespace llmnpu {

ModelProgram build_model_program(const ModelConfig& config);

}  // namespace llmnpu
