#include "graph/chunk.h"

namespace llmnpu {

void Chunk::allocate(const ModelProgram& program, int n_rows) {
  rows = n_rows;
  tensors.resize(program.tensors.size());
  for (size_t i = 0; i < program.tensors.size(); ++i)
    if (int(i) != program.logits) tensors[i].assign(size_t(n_rows) * size_t(program.tensors[i].width), 0.0f);
}

void Chunk::release_activations() {
  for (auto& t : tensors) std::vector<float>().swap(t);
}

size_t chunk_row_floats(const ModelProgram& program) {
  size_t n = 0;
  for (size_t i = 0; i < program.tensors.size(); ++i)
    if (int(i) != program.logits) n += size_t(program.tensors[i].width);
  return n;
}

}  // namespace llmnpu
