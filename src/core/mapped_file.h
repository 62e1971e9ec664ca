#pragma once
// A read-only memory map of a whole file. Model weights are used in place from the map.
#include <cstddef>
#include <cstdint>
#include <string>

namespace llmnpu {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error if the file cannot be opened/mapped
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Lets the OS drop the resident pages of [data, data + bytes), part of a read-only file map, once they
// have been read (the F16 head after the int8 head is built from it): later reads fault them back in
// from the file. Only whole pages inside the range are dropped; a no-op where the OS cannot.
void release_mapped_pages(const void* data, size_t bytes);

}  // namespace llmnpu
