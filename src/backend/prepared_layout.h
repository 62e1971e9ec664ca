#pragma once
// What a prepared W8A8 file holds, for `inspect`: the settings prepare recorded (llmnpu.prepared.*
// scalars), and per int8 linear its shape, weight scales, activation scale, shadow path, hot channels
// and weight outliers, with the memory they take.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "backend/prepared_graph.h"
#include "format/gguf.h"

namespace llmnpu {

struct PreparedLinearInfo {
  std::string name;  // blk.L.qkv, ...
  int in = 0, out = 0;
  bool per_channel_weights = false;
  float act_scale = 0;
  bool shadow = false;      // the float shadow path runs for this linear
  size_t hot_channels = 0;  // input channels whose weight rows are resident in F16
  size_t weight_outliers = 0;
  int row_entry_budget = 0;  // outlier entries per row the shadow pass takes; beyond: a dynamic scale
  size_t int8_bytes = 0, resident_bytes = 0;
};

struct PreparedLayout {
  int version = 0;
  std::vector<std::pair<std::string, std::string>> settings;  // key (without the prefix), value as text
  std::vector<PreparedLinearInfo> linears;
  size_t int8_bytes = 0, resident_bytes = 0;
  int shadowed_linears = 0;
};

// Reads the layout of a loaded prepared model; `file` is the same file (for the recorded settings).
PreparedLayout prepared_layout(const PreparedGraph& prepared, const GgufFile& file);

}  // namespace llmnpu
