#include "core/aligned_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace llmnpu {

void* allocate_aligned(size_t bytes) {
  if (bytes == 0) return nullptr;
  constexpr size_t kHuge = size_t(2) << 20;
  const bool huge = bytes >= 2 * kHuge;
  const size_t align = huge ? kHuge : 64;
  const size_t rounded = (bytes + align - 1) / align * align;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(align, rounded);
  if (!p) throw std::bad_alloc();
  // Advice only: where THP is off or the advice is refused, the array still works with small pages.
  if (huge) madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

void release_aligned(void* p) { std::free(p); }

}  // namespace llmnpu
