// Block-quantized ggml types: random codes and scales are placed into blocks bit by bit, element by
// element, as the GGUF format lays each type out, and the dequantized values must equal code * scale
// (- min) computed from those codes directly.
#include "format/ggml_dequant.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/half.h"

namespace llmnpu {
namespace {

struct Bits {
  std::vector<uint8_t>& bytes;
  // Writes `count` bits of `value` at bit `bit` of byte `byte`.
  void put(size_t byte, int bit, int count, unsigned value) {
    for (int i = 0; i < count; ++i)
      if ((value >> i) & 1u) bytes[byte + size_t(bit + i) / 8] |= uint8_t(1u << ((bit + i) % 8));
  }
  void half(size_t byte, float v) {
    const uint16_t h = float_to_half(v);
    std::memcpy(&bytes[byte], &h, 2);
  }
};

float h(float v) { return half_to_float(float_to_half(v)); }  // what an F16 field holds

struct Case {
  std::vector<uint8_t> block;
  std::vector<float> expect;
};

Case make(GgmlType t, std::mt19937& rng) {
  const GgmlTypeInfo* info = ggml_type_info(uint32_t(t));
  Case c;
  c.block.assign(info->block_bytes, 0);
  c.expect.assign(info->block_elements, 0.0f);
  Bits b{c.block};
  auto code = [&](int bits) { return int(rng() % (1u << bits)); };
  const float d = h(0.01f + float(rng() % 1000) * 1e-4f), m = h(-0.3f + float(rng() % 600) * 1e-3f);
  switch (t) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1: {
      const bool with_min = t == GgmlType::Q4_1;
      b.half(0, d);
      if (with_min) b.half(2, m);
      const size_t qs = with_min ? 4 : 2;
      for (int e = 0; e < 32; ++e) {
        const int q = code(4);
        b.put(qs + size_t(e % 16), e < 16 ? 0 : 4, 4, unsigned(q));  // element e: byte e % 16, nibble e / 16
        c.expect[size_t(e)] = with_min ? float(q) * d + m : float(q - 8) * d;
      }
      break;
    }
    case GgmlType::Q5_0:
    case GgmlType::Q5_1: {
      const bool with_min = t == GgmlType::Q5_1;
      b.half(0, d);
      if (with_min) b.half(2, m);
      const size_t qh = with_min ? 4 : 2, qs = qh + 4;
      for (int e = 0; e < 32; ++e) {
        const int q = code(5);
        b.put(qs + size_t(e % 16), e < 16 ? 0 : 4, 4, unsigned(q & 15));
        b.put(qh, e, 1, unsigned(q >> 4));  // bit e of the 32-bit high word
        c.expect[size_t(e)] = with_min ? float(q) * d + m : float(q - 16) * d;
      }
      break;
    }
    case GgmlType::Q8_0:
    case GgmlType::Q8_1: {
      b.half(0, d);
      if (t == GgmlType::Q8_1) b.half(2, 123.0f);  // the block sum: not used to dequantize
      const size_t qs = t == GgmlType::Q8_1 ? 4 : 2;
      for (int e = 0; e < 32; ++e) {
        const int q = code(8) - 128;
        c.block[qs + size_t(e)] = uint8_t(int8_t(q));
        c.expect[size_t(e)] = float(q) * d;
      }
      break;
    }
    case GgmlType::Q2_K:
    case GgmlType::Q3_K: {
      const bool q3 = t == GgmlType::Q3_K;
      // Element e: half e / 128, bit pair g = (e % 128) / 32, part (e % 32) / 16, l = e % 16; its two
      // low bits sit in byte 32 half + 16 part + l of the codes at bits 2 g; sub-block 8 half + 2 g + part.
      const size_t qs = q3 ? 32 : 16;
      int scale[16], min[16];
      for (int s = 0; s < 16; ++s) {
        scale[s] = code(q3 ? 6 : 4);
        min[s] = code(4);
        if (q3) {
          b.put(96 + size_t(s % 8), s < 8 ? 0 : 4, 4, unsigned(scale[s] & 15));  // low 4 bits
          b.put(104 + size_t(s % 4), 2 * (s / 4), 2, unsigned(scale[s] >> 4));   // top 2 bits
        } else {
          b.put(size_t(s), 0, 4, unsigned(scale[s]));
          b.put(size_t(s), 4, 4, unsigned(min[s]));
        }
      }
      if (q3)
        b.half(108, d);
      else
        b.half(80, d), b.half(82, h(std::fabs(m)));
      for (int e = 0; e < 256; ++e) {
        const int half = e / 128, g = (e % 128) / 32, part = (e % 32) / 16, l = e % 16;
        const int sub = 8 * half + 2 * g + part, low = code(2);
        b.put(qs + size_t(32 * half + 16 * part + l), 2 * g, 2, unsigned(low));
        if (q3) {
          const int high = code(1);  // hmask byte 16 part + l, bit 4 half + g; clear = subtract 4
          b.put(size_t(16 * part + l), 4 * half + g, 1, unsigned(high));
          c.expect[size_t(e)] = d * float(scale[sub] - 32) * float(low - (high ? 0 : 4));
        } else {
          c.expect[size_t(e)] = d * float(scale[sub]) * float(low) - h(std::fabs(m)) * float(min[sub]);
        }
      }
      break;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q5_K: {
      const bool q5 = t == GgmlType::Q5_K;
      const float dmin = h(std::fabs(m));
      b.half(0, d);
      b.half(2, dmin);
      int scale[8], min[8];
      for (int s = 0; s < 8; ++s) {
        scale[s] = code(6);
        min[s] = code(6);
        if (s < 4) {
          b.put(4 + size_t(s), 0, 6, unsigned(scale[s]));
          b.put(8 + size_t(s), 0, 6, unsigned(min[s]));
        } else {
          b.put(12 + size_t(s - 4), 0, 4, unsigned(scale[s] & 15));
          b.put(12 + size_t(s - 4), 4, 4, unsigned(min[s] & 15));
          b.put(4 + size_t(s - 4), 6, 2, unsigned(scale[s] >> 4));
          b.put(8 + size_t(s - 4), 6, 2, unsigned(min[s] >> 4));
        }
      }
      const size_t qs = q5 ? 48 : 16;
      for (int e = 0; e < 256; ++e) {
        const int sub = e / 32, l = e % 32, q = code(q5 ? 5 : 4);
        b.put(qs + size_t(32 * (sub / 2) + l), sub % 2 ? 4 : 0, 4, unsigned(q & 15));
        if (q5) b.put(16 + size_t(l), sub, 1, unsigned(q >> 4));  // fifth bit: byte l, bit = sub-block
        c.expect[size_t(e)] = d * float(scale[sub]) * float(q) - dmin * float(min[sub]);
      }
      break;
    }
    case GgmlType::Q6_K: {
      int scale[16];
      for (int s = 0; s < 16; ++s) {
        scale[s] = code(8) - 128;
        c.block[192 + size_t(s)] = uint8_t(int8_t(scale[s]));
      }
      b.half(208, d);
      for (int e = 0; e < 256; ++e) {
        // half e / 128; r = (e % 128) / 32; l = e % 32: low nibble in byte 64 half + l (+32 for odd r),
        // the high nibble for r >= 2; top 2 bits in byte 128 + 32 half + l at bits 2 r; scale 8 half + l / 16
        // + 2 r.
        const int half = e / 128, r = (e % 128) / 32, l = e % 32, q = code(6);
        b.put(size_t(64 * half + l + (r % 2 ? 32 : 0)), r >= 2 ? 4 : 0, 4, unsigned(q & 15));
        b.put(128 + size_t(32 * half + l), 2 * r, 2, unsigned(q >> 4));
        c.expect[size_t(e)] = d * float(scale[8 * half + l / 16 + 2 * r]) * float(q - 32);
      }
      break;
    }
    default: ADD_FAILURE() << "no case for " << ggml_type_name(t);
  }
  return c;
}

TEST(GgmlDequant, EveryBlockTypeMatchesItsCodesTimesScales) {
  std::mt19937 rng(7);
  for (GgmlType t :
       {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q8_1,
        GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    ASSERT_TRUE(ggml_dequantizable(t)) << ggml_type_name(t);
    // Three blocks in a row, each with its own codes and scales.
    std::vector<uint8_t> bytes;
    std::vector<float> expect;
    for (int i = 0; i < 3; ++i) {
      Case c = make(t, rng);
      bytes.insert(bytes.end(), c.block.begin(), c.block.end());
      expect.insert(expect.end(), c.expect.begin(), c.expect.end());
    }
    std::vector<float> got(expect.size());
    ggml_to_float(t, bytes.data(), got.data(), got.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], expect[i], 1e-6f * (1.0f + std::fabs(expect[i])))
          << ggml_type_name(t) << " element " << i;
    EXPECT_EQ(ggml_row_bytes(t, expect.size()), bytes.size());
  }
}

TEST(GgmlDequant, RefusesPartialBlocksAndOtherTypes) {
  std::vector<uint8_t> bytes(210, 0);
  std::vector<float> out(256);
  EXPECT_THROW(ggml_dequantize(GgmlType::Q6_K, bytes.data(), out.data(), 100), Error);
  EXPECT_THROW(ggml_dequantize(GgmlType::F16, bytes.data(), out.data(), 4), Error);
  EXPECT_FALSE(ggml_dequantizable(GgmlType::Q8_K));
  EXPECT_THROW(ggml_row_bytes(GgmlType::Q8_K, 256), Error);
  EXPECT_THROW(ggml_row_bytes(GgmlType::Q4_K, 128), Error);  // not a whole number of 256-element blocks
}

}  // namespace
}  // namespace llmnpu
