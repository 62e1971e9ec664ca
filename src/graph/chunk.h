#pragma once
// One chunk of prompt tokens in flight, with the program's tensors its subgraphs read and write.
// Each chunk owns its buffers, so several chunks can be at different subgraphs at the same time.
#include <cstdint>
#include <vector>

#include "core/aligned_memory.h"
#include "graph/program.h"

namespace llmnpu {

struct Chunk {
  int index = 0;            // chunk number within the prompt
  int pos0 = 0;             // position of its first token
  int T = 0;                // real tokens
  int rows = 0;             // rows computed (T, or the fixed chunk length when padded)
  bool all_logits = false;  // the head computes every real row (perplexity) or only the last one
  std::vector<int32_t> tokens;

  // [rows][width] per program tensor, each 64-byte aligned in one slab (the logits tensor excepted:
  // [logit rows][vocab] in `logits`, filled by the head).
  AlignedArray<float> slab;
  std::vector<size_t> offsets;  // per tensor, in floats into slab
  std::vector<float> logits;

  // The first logit row and how many there are (the last real row, or all of them).
  int first_logit_row() const { return all_logits ? 0 : T - 1; }
  int logit_rows() const { return T - first_logit_row(); }

  float* data(int tensor) { return slab.data() + offsets[size_t(tensor)]; }
  float* at(const View& v) { return data(v.tensor) + v.col; }

  // Zeroed buffers for `rows` rows; `reuse` (a slab an earlier chunk gave back) is taken when it is large
  // enough, so a prefill that runs chunk after chunk allocates and faults in its buffers once.
  void allocate(const ModelProgram& program, int rows, AlignedArray<float> reuse = {});
  // Hands the activation buffers back once the chunk is done (its logits stay).
  AlignedArray<float> take_activations();
  // Rows [row0, row0 + n) as a chunk of their own at positions pos0.., sharing this chunk's buffers (which
  // must outlive it): the position-dependent ops of one sequence among several in a chunk.
  Chunk rows_view(const ModelProgram& program, int row0, int n, int pos0);
};

// Floats of a chunk's buffers (every tensor but the logits) for `rows` rows.
size_t chunk_buffer_floats(const ModelProgram& program, int rows);

}  // namespace llmnpu
