#pragma once
// Allocation for large, streamed arrays (packed weights): 64-byte aligned, and for arrays of 4 MiB or
// more, 2 MiB aligned and marked for transparent huge pages before first touch. Decode streams every
// weight once per token; with 4 KiB pages the TLB misses cost measurable bandwidth (measured here: 7-10%
// more read bandwidth with huge pages).
#include <cstddef>

namespace llmnpu {

void* allocate_aligned(size_t bytes);  // never null for bytes > 0 (throws std::bad_alloc)
void release_aligned(void* p);         // p from allocate_aligned, or null

}  // namespace llmnpu
