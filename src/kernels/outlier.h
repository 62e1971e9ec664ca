#pragma once
// One activation outlier pulled out of a quantized matrix for shadow (float) execution.
// Lists are sorted by row, then by channel; the float result of an entry is v * W[:, channel] added to
// output row `row`.
#include <cstdint>

namespace llmnpu::kernels {

struct OutlierEntry {
  int32_t row;      // row m of the activation matrix X[M][K]
  int32_t channel;  // input channel k
  float value;      // X[m][k] (the part the int8 path did not represent)
};

}  // namespace llmnpu::kernels
