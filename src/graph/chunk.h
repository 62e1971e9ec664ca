#pragma once
// One chunk of prompt tokens in flight, with the program's tensors its subgraphs read and write.
// Each chunk owns its buffers, so several chunks can be at different subgraphs at the same time.
#include <cstdint>
#include <vector>

#include "graph/program.h"

namespace llmnpu {

struct Chunk {
  int index = 0;            // chunk number within the prompt
  int pos0 = 0;             // position of its first token
  int T = 0;                // real tokens
  int rows = 0;             // rows computed (T, or the fixed chunk length when padded)
  bool all_logits = false;  // the head computes every real row (perplexity) or only the last one
  std::vector<int32_t> tokens;

  // [rows][width] per program tensor; the logits tensor is [logit rows][vocab], filled by the head.
  std::vector<std::vector<float>> tensors;
  std::vector<float> logits;

  // The first logit row and how many there are (the last real row, or all of them).
  int first_logit_row() const { return all_logits ? 0 : T - 1; }
  int logit_rows() const { return T - first_logit_row(); }

  float* data(int tensor) { return tensors[size_t(tensor)].data(); }
  float* at(const View& v) { return tensors[size_t(v.tensor)].data() + v.col; }

  void allocate(const ModelProgram& program, int rows);
  // Frees the activation buffers once the chunk is done (its logits stay).
  void release_activations();
};

// Floats of one chunk row over every tensor but the logits.
size_t chunk_row_floats(const ModelProgram& program);

}  // namespace llmnpu
