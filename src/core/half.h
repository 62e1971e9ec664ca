#pragma once
// IEEE half and bfloat16 <-> float conversions (scalar, exact, no F16C needed).
#include <bit>
#include <cmath>
#include <cstdint>

namespace llmnpu {

inline float bf16_to_float(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

inline uint16_t float_to_bf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 0x40);  // keep NaN a NaN
  u += 0x7fff + ((u >> 16) & 1);                                         // round to nearest even
  return uint16_t(u >> 16);
}

inline float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);
    // subnormal: value = mant * 2^-24
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000 | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t float_to_half(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000);
  uint32_t absu = u & 0x7fffffff;
  if (absu > 0x7f800000) return sign | 0x7e00;   // NaN
  if (absu >= 0x477ff000) return sign | 0x7c00;  // overflow -> inf
  if (absu < 0x38800000) {                       // subnormal or zero
    float a = std::bit_cast<float>(absu);
    uint32_t m = uint32_t(std::nearbyint(a * 16777216.0f));  // exact scaling; ties to even, as vcvtps2ph
    return sign | uint16_t(m);
  }
  uint32_t rounded = absu + 0xfff + ((absu >> 13) & 1);
  return sign | uint16_t((rounded - 0x38000000) >> 13);
}

}  // namespace llmnpu
