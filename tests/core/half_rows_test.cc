// The vector F16 -> fp32 conversion gives the portable conversion's floats for every half (signaling NaNs
// aside: the instructions quiet them), at lengths that do not divide the vector width.
#include "core/half_rows.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

#include "core/half.h"

namespace llmnpu {
namespace {

bool signaling_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0 && (h & 0x200) == 0; }

TEST(HalfRows, EveryHalfConvertsAsTheScalarTwin) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  std::vector<float> vector(all.size()), scalar(all.size());
  halves_to_floats(all.data(), vector.data(), all.size());
  halves_to_floats_scalar(all.data(), scalar.data(), all.size());
  size_t compared = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (signaling_nan(all[i])) {
      EXPECT_TRUE(std::isnan(vector[i])) << i;
      continue;
    }
    ASSERT_EQ(std::bit_cast<uint32_t>(vector[i]), std::bit_cast<uint32_t>(scalar[i])) << "half " << i;
    ++compared;
  }
  EXPECT_GT(compared, 64000u);
}

TEST(HalfRows, TailsAndOffsetsAreConvertedAndNothingPastThem) {
  std::vector<uint16_t> src(41);
  for (size_t i = 0; i < src.size(); ++i) src[i] = float_to_half(float(i) * 0.37f - 5.0f);
  for (size_t offset : {0u, 1u, 3u})
    for (size_t n : {0u, 1u, 7u, 8u, 9u, 17u, 31u}) {
      std::vector<float> out(n + 4, -123.0f);
      halves_to_floats(src.data() + offset, out.data(), n);
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], half_to_float(src[offset + i])) << offset << " " << i;
      for (size_t i = n; i < out.size(); ++i) EXPECT_EQ(out[i], -123.0f) << "wrote past " << n;
    }
}

}  // namespace
}  // namespace llmnpu
