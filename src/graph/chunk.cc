#include "graph/chunk.h"

#include <cstring>

namespace llmnpu {

namespace {
// Floats of each tensor's buffer: every tensor starts on a cache line.
size_t tensor_floats(const ModelProgram& program, size_t tensor, int rows) {
  constexpr size_t kLine = 64 / sizeof(float);
  if (int(tensor) == program.logits) return 0;
  return (size_t(rows) * size_t(program.tensors[tensor].width) + kLine - 1) / kLine * kLine;
}
}  // namespace

void Chunk::allocate(const ModelProgram& program, int n_rows, AlignedArray<float> reuse) {
  rows = n_rows;
  offsets.assign(program.tensors.size(), 0);
  size_t total = 0;
  for (size_t i = 0; i < program.tensors.size(); ++i) {
    offsets[i] = total;
    total += tensor_floats(program, i, n_rows);
  }
  slab = reuse.size() >= total ? std::move(reuse) : AlignedArray<float>(total);
  if (total) std::memset(slab.data(), 0, total * sizeof(float));
}

AlignedArray<float> Chunk::take_activations() {
  offsets.clear();
  return std::move(slab);
}

size_t chunk_buffer_floats(const ModelProgram& program, int rows) {
  size_t n = 0;
  for (size_t i = 0; i < program.tensors.size(); ++i) n += tensor_floats(program, i, rows);
  return n;
}

}  // namespace llmnpu
