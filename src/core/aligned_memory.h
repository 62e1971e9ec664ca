#pragma once
// Allocation for large, streamed arrays (packed weights, the KV cache): 64-byte aligned, and for arrays
// of 4 MiB or more, 2 MiB aligned and marked for transparent huge pages before first touch. Decode streams
// every weight once per token; with 4 KiB pages the TLB misses cost measurable bandwidth (measured here:
// 7-10% more read bandwidth with huge pages).
#include <cstddef>
#include <memory>
#include <type_traits>

namespace llmnpu {

void* allocate_aligned(size_t bytes);  // never null for bytes > 0 (throws std::bad_alloc)
void release_aligned(void* p);         // p from allocate_aligned, or null

// 64-byte aligned owning array (the packed panels are read with aligned 512-bit loads); large arrays get
// huge pages where the OS allows (above). Elements are left uninitialized (T trivial).
template <typename T>
class AlignedArray {
  static_assert(std::is_trivial_v<T>, "AlignedArray holds plain values (no constructors run)");

 public:
  AlignedArray() = default;
  explicit AlignedArray(size_t count)
      : data_(count ? static_cast<T*>(allocate_aligned(count * sizeof(T))) : nullptr), size_(count) {}
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(T* p) const { release_aligned(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace llmnpu
