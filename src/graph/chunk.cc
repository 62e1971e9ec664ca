#include "graph/chunk.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

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

Chunk Chunk::rows_view(const ModelProgram& program, int row0, int n, int pos0) {
  check(row0 >= 0 && n >= 0 && row0 + n <= rows, "chunk view of rows ", row0, "..", row0 + n, " outside ",
        rows);
  Chunk view;
  view.index = index;
  view.pos0 = pos0;
  view.T = n;
  view.rows = n;
  view.tokens.assign(tokens.begin() + row0, tokens.begin() + std::min(int(tokens.size()), row0 + n));
  view.slab = AlignedArray<float>::view(slab.data(), slab.size());
  view.offsets = offsets;
  for (size_t i = 0; i < offsets.size(); ++i)
    if (int(i) != program.logits) view.offsets[i] += size_t(row0) * size_t(program.tensors[i].width);
  return view;
}

size_t chunk_buffer_floats(const ModelProgram& program, int rows) {
  size_t n = 0;
  for (size_t i = 0; i < program.tensors.size(); ++i) n += tensor_floats(program, i, rows);
  return n;
}

}  // namespace llmnpu
