#include "format/ggml_type.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "core/half_rows.h"
#include "format/ggml_dequant.h"

namespace llmnpu {

namespace {
struct Entry {
  uint32_t id;
  GgmlTypeInfo info;
};
// Q8_K (an activation type of ggml, not found in model files) is recognised, to name it in errors.
constexpr Entry kTypes[] = {
    {0, {"F32", 1, 4}},       {1, {"F16", 1, 2}},       {2, {"Q4_0", 32, 18}},    {3, {"Q4_1", 32, 20}},
    {6, {"Q5_0", 32, 22}},    {7, {"Q5_1", 32, 24}},    {8, {"Q8_0", 32, 34}},    {9, {"Q8_1", 32, 36}},
    {10, {"Q2_K", 256, 84}},  {11, {"Q3_K", 256, 110}}, {12, {"Q4_K", 256, 144}}, {13, {"Q5_K", 256, 176}},
    {14, {"Q6_K", 256, 210}}, {15, {"Q8_K", 256, 0}},   {24, {"I8", 1, 1}},       {25, {"I16", 1, 2}},
    {26, {"I32", 1, 4}},      {27, {"I64", 1, 8}},      {28, {"F64", 1, 8}},      {30, {"BF16", 1, 2}},
};
}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t type) {
  for (const auto& e : kTypes)
    if (e.id == type) return &e.info;
  return nullptr;
}

const char* ggml_type_name(GgmlType t) {
  const auto* info = ggml_type_info(uint32_t(t));
  return info ? info->name : "unknown";
}

size_t ggml_row_bytes(GgmlType t, uint64_t n) {
  const auto* info = ggml_type_info(uint32_t(t));
  check(info && info->block_bytes, "tensor type ", ggml_type_name(t), " is not supported");
  check(n % info->block_elements == 0, "row of ", n, " elements is not a whole number of ", info->name,
        " blocks");
  return size_t(n / info->block_elements) * info->block_bytes;
}

void ggml_to_float(GgmlType t, const void* src, float* dst, size_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  switch (t) {
    case GgmlType::F32: std::memcpy(dst, src, n * 4); return;
    case GgmlType::F16:
      if (reinterpret_cast<uintptr_t>(src) % alignof(uint16_t) == 0)
        return halves_to_floats(static_cast<const uint16_t*>(src), dst, n);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        dst[i] = half_to_float(h);
      }
      return;
    case GgmlType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        dst[i] = bf16_to_float(h);
      }
      return;
    case GgmlType::I8:
      for (size_t i = 0; i < n; ++i) dst[i] = float(reinterpret_cast<const int8_t*>(src)[i]);
      return;
    case GgmlType::I32:
      for (size_t i = 0; i < n; ++i) {
        int32_t v;
        std::memcpy(&v, bytes + 4 * i, 4);
        dst[i] = float(v);
      }
      return;
    default:
      if (ggml_dequantizable(t)) return ggml_dequantize(t, bytes, dst, n);
      fail("tensor type ", ggml_type_name(t), " cannot be converted to float by this engine");
  }
}

}  // namespace llmnpu
