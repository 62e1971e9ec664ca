#pragma once
// Many F16 values to fp32 at once (decoding F16 weights a block of rows at a time): the F16C / NEON
// conversion instructions where the CPU has them, else half_to_float per value. Both give the same
// floats (the conversion is exact), signaling NaNs aside (the instructions quiet them).
#include <cstddef>
#include <cstdint>

namespace llmnpu {

void halves_to_floats(const uint16_t* src, float* dst, size_t n);
// The portable twin (tests compare the two).
void halves_to_floats_scalar(const uint16_t* src, float* dst, size_t n);

}  // namespace llmnpu
