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
// huge pages where the OS allows (above). Elements are left uninitialized (T trivial). view() wraps memory
// owned elsewhere (a mapped file's tensor) without copying it: the array then never frees it.
template <typename T>
class AlignedArray {
  static_assert(std::is_trivial_v<T>, "AlignedArray holds plain values (no constructors run)");

 public:
  AlignedArray() = default;
  explicit AlignedArray(size_t count)
      : data_(count ? static_cast<T*>(allocate_aligned(count * sizeof(T))) : nullptr), size_(count) {}
  static AlignedArray view(const T* data, size_t count) {
    AlignedArray a;
    a.data_ = std::unique_ptr<T, Free>(const_cast<T*>(data), Free{false});
    a.size_ = count;
    return a;
  }
  bool owned() const { return data_.get_deleter().owned; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    bool owned = true;
    void operator()(T* p) const {
      if (owned) release_aligned(p);
    }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace llmnpu
