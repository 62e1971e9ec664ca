#pragma once
// The float reference: an interpreter of layer programs written to be read top to bottom, like
// llama2.c's run.c. Plain loops, double accumulation, no threads, no SIMD, one token row at a time (a
// chunk is its rows in order: each row appends its key and value, then attends over every key before it,
// which is causal attention). Tests use it as the oracle for every architecture; `llmnpu run
// --reference` uses it for anyone who doubts a result.
#include <cstdint>
#include <memory>
#include <vector>

#include "graph/chunk.h"
#include "graph/kv_cache.h"
#include "graph/model_graph.h"
#include "graph/program.h"
#include "model/model.h"

namespace llmnpu {

// Where the reference finds the float weights an op names.
class ReferenceWeights {
 public:
  virtual ~ReferenceWeights() = default;
  // A norm weight, bias or embedding table.
  virtual const float* vector(const WeightRef& ref) const = 0;
  // y[n] = sum_k W[n][k] x[k] (+ bias[n]), out rows of W; throws when the linear has no float weights.
  virtual void linear(const WeightRef& ref, const float* x, int in, float* y, int out) const = 0;
};

// A float model's own weights, named as the program names them (through its fp32 graph).
std::unique_ptr<ReferenceWeights> model_reference_weights(const Model& model);
// The fp32 linears (FloatLinear) and vectors of a graph.
std::unique_ptr<ReferenceWeights> graph_reference_weights(const ModelGraph& graph);

// Runs `ops` on row `row` of the chunk, the token at position `position`. The logits tensor's row is
// `logit_row`.
void reference_run_row(const ModelProgram& program, const std::vector<Op>& ops,
                       const ReferenceWeights& weights, Chunk& chunk, int row, int logit_row, int position,
                       KvCache& cache);

class ReferenceInterpreter {
 public:
  ReferenceInterpreter(const Model& model, int context);
  // The logits of `token` at the next position.
  std::vector<float> forward(int32_t token);
  void reset() { position_ = 0; }
  int position() const { return position_; }
  const ModelProgram& program() const { return program_; }

 private:
  const Model& model_;
  ModelProgram program_;
  std::unique_ptr<ReferenceWeights> weights_;
  KvCache cache_;
  Chunk row_;
  int position_ = 0;
};

}  // namespace llmnpu
