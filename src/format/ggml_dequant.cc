// Block-quantized ggml types to float, read as the GGUF format defines them (ggml's block layouts):
// what lets the float path load the quantized GGUF files people download (Q4_0 ... Q6_K) and `prepare`
// requantize them to W8A8. Plain scalar loops: this runs once per tensor at load.
#include "format/ggml_dequant.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"

namespace llmnpu {
namespace {

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_float(h);
}

// Q4_0 (18 bytes): d, then 16 bytes of 4-bit codes: element j in the low nibble of byte j, element j + 16
// in its high nibble; value (code - 8) * d. Q4_1 (20 bytes): d, m, codes as Q4_0; value code * d + m.
void q4(const uint8_t* b, float* y, bool with_min) {
  const float d = half_at(b), m = with_min ? half_at(b + 2) : 0.0f;
  const uint8_t* qs = b + (with_min ? 4 : 2);
  const int offset = with_min ? 0 : 8;
  for (int j = 0; j < 16; ++j) {
    y[j] = float((qs[j] & 0x0F) - offset) * d + m;
    y[j + 16] = float((qs[j] >> 4) - offset) * d + m;
  }
}

// Q5_0 (22 bytes): d, 32 high bits (little-endian: bit j is element j's fifth bit), 16 bytes of low
// nibbles laid out as Q4_0; value (code - 16) * d. Q5_1 (24 bytes): d, m, then as Q5_0; code * d + m.
void q5(const uint8_t* b, float* y, bool with_min) {
  const float d = half_at(b), m = with_min ? half_at(b + 2) : 0.0f;
  const uint8_t* p = b + (with_min ? 4 : 2);
  uint32_t high;
  std::memcpy(&high, p, 4);
  const uint8_t* qs = p + 4;
  const int offset = with_min ? 0 : 16;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0F) | int(((high >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | int(((high >> (j + 16)) & 1u) << 4);
    y[j] = float(lo - offset) * d + m;
    y[j + 16] = float(hi - offset) * d + m;
  }
}

// Q8_0 (34 bytes): d, 32 int8 codes. Q8_1 (36 bytes): d, s (the block's sum, unused here), 32 codes.
void q8(const uint8_t* b, float* y, bool with_sum) {
  const float d = half_at(b);
  const auto* q = reinterpret_cast<const int8_t*>(b + (with_sum ? 4 : 2));
  for (int j = 0; j < 32; ++j) y[j] = d * float(q[j]);
}

// The 12 bytes of 6-bit scales and mins of Q4_K / Q5_K (8 sub-blocks of 32): sub-blocks 0-3 keep their
// scale and min in the low 6 bits of bytes 0-3 and 4-7; sub-blocks 4-7 have their low 4 bits in the
// nibbles of bytes 8-11 and their top 2 bits in the top bits of bytes 0-3 (scales) and 4-7 (mins).
void k_scale_min(const uint8_t* s, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q2_K (84 bytes): 16 bytes of 4-bit scale (low) and min (high) per sub-block of 16, 64 bytes of 2-bit
// codes, d, dmin. Each half of 128 elements takes 32 code bytes; its 4 bit-pairs (shifts 0, 2, 4, 6) hold
// 4 runs of 32 elements, each run two sub-blocks of 16 (bytes 0-15 and 16-31).
void q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* qs = b + 16;
  const float d = half_at(b + 80), dmin = half_at(b + 82);
  int sub = 0;
  for (int half = 0; half < 2; ++half, qs += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int part = 0; part < 2; ++part, ++sub) {
        const float dl = d * float(scales[sub] & 0x0F), ml = dmin * float(scales[sub] >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((qs[16 * part + l] >> shift) & 3) - ml;
      }
}

// Q3_K (110 bytes): 32 bytes of high bits (bit h of byte l: the third bit of element l + 32 h), 64 bytes
// of 2-bit codes (laid out as Q2_K), 12 bytes of sixteen 6-bit scales (biased by 32), d. A set high bit
// means the code stands as is; a clear one subtracts 4.
void q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const uint8_t* packed = b + 96;
  const float d = half_at(b + 108);
  // Scales: low 4 bits in the nibbles of bytes 0-7 (scales 0-7 low nibbles, 8-15 high nibbles), the top
  // 2 bits in bytes 8-11 (scale i: byte 8 + i % 4, bits 2 * (i / 4)).
  int scale[16];
  for (int i = 0; i < 16; ++i) {
    const int low = i < 8 ? packed[i] & 0x0F : packed[i - 8] >> 4;
    const int top = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
    scale[i] = (low | (top << 4)) - 32;
  }
  int sub = 0, bit = 0;
  for (int half = 0; half < 2; ++half, qs += 32)
    for (int shift = 0; shift < 8; shift += 2, ++bit)
      for (int part = 0; part < 2; ++part, ++sub) {
        const float dl = d * float(scale[sub]);
        for (int l = 0; l < 16; ++l) {
          const int i = 16 * part + l;
          const int code = ((qs[i] >> shift) & 3) - ((hmask[i] >> bit) & 1 ? 0 : 4);
          *y++ = dl * float(code);
        }
      }
}

// Q4_K (144 bytes): d, dmin, 12 bytes of scales and mins (k_scale_min), 128 bytes of 4-bit codes: each
// 32 bytes hold two sub-blocks of 32, the first in the low nibbles. value = d * scale * code - dmin * min.
// Q5_K (176 bytes): as Q4_K with 32 bytes of fifth bits before the codes: bit s of byte l belongs to
// element l of sub-block s.
void q4_q5_k(const uint8_t* b, float* y, bool fifth_bits) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + (fifth_bits ? 48 : 16);
  for (int sub = 0; sub < 8; ++sub) {
    int sc, mn;
    k_scale_min(scales, sub, &sc, &mn);
    const float scale = d * float(sc), min = dmin * float(mn);
    const uint8_t* q = qs + 32 * (sub / 2);
    const int shift = 4 * (sub % 2);
    for (int l = 0; l < 32; ++l) {
      const int high = fifth_bits ? ((qh[l] >> sub) & 1) << 4 : 0;
      *y++ = scale * float(((q[l] >> shift) & 0x0F) | high) - min;
    }
  }
}

// Q6_K (210 bytes): 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales (one per 16
// elements), d. Per half of 128 elements (64 low bytes, 32 high bytes): element l + 32 r (r = 0..3) has
// its low nibble in byte l (r = 0, 2: low / high nibble) or l + 32 (r = 1, 3), its high bits at shift 2 r
// of high byte l; value = d * scale * (code - 32).
void q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (int half = 0; half < 2; ++half, ql += 64, qh += 32, scales += 8, y += 128)
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(scales[is]) * float(q1);
      y[l + 32] = d * float(scales[is + 2]) * float(q2);
      y[l + 64] = d * float(scales[is + 4]) * float(q3);
      y[l + 96] = d * float(scales[is + 6]) * float(q4);
    }
}

}  // namespace

bool ggml_dequantizable(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
    case GgmlType::Q8_1:
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K: return true;
    default: return false;
  }
}

void ggml_dequantize(GgmlType t, const uint8_t* src, float* dst, size_t n) {
  const GgmlTypeInfo* info = ggml_type_info(uint32_t(t));
  check(info && info->block_bytes && ggml_dequantizable(t), "tensor type ", ggml_type_name(t),
        " cannot be dequantized by this engine");
  check(n % info->block_elements == 0, ggml_type_name(t), " tensor length ", n, " is not a multiple of ",
        info->block_elements);
  const size_t blocks = n / info->block_elements;
  for (size_t i = 0; i < blocks; ++i) {
    const uint8_t* b = src + i * info->block_bytes;
    float* y = dst + i * info->block_elements;
    switch (t) {
      case GgmlType::Q4_0: q4(b, y, false); break;
      case GgmlType::Q4_1: q4(b, y, true); break;
      case GgmlType::Q5_0: q5(b, y, false); break;
      case GgmlType::Q5_1: q5(b, y, true); break;
      case GgmlType::Q8_0: q8(b, y, false); break;
      case GgmlType::Q8_1: q8(b, y, true); break;
      case GgmlType::Q2_K: q2_k(b, y); break;
      case GgmlType::Q3_K: q3_k(b, y); break;
      case GgmlType::Q4_K: q4_q5_k(b, y, false); break;
      case GgmlType::Q5_K: q4_q5_k(b, y, true); break;
      case GgmlType::Q6_K: q6_k(b, y); break;
      default: break;
    }
  }
}

}  // namespace llmnpu
