#pragma once
// How the static per-tensor activation scale of a linear input is chosen from calibration statistics.
// Everything above the clip value (127 * scale) becomes an outlier for the shadow path.
//   max        : clip = max |x| (no outliers, coarse steps when the max is huge)
//   percentile : the released mllm rule: clip = pXX unless pXX * ratio > max, then clip = max
//   channel    : LLM outliers live in a few fixed channels present in every token, which an element
//                percentile cannot cut; channels whose max exceeds `channel_ratio` x the median channel
//                max (at most `max_channel_share` of the channels, the largest) are outlier channels and
//                the clip is the largest max among the others. With no outlier channel this is `max`.
// See docs/quantization.md.
#include <string>
#include <vector>

#include "quant/activation_stats.h"

namespace llmnpu::quant {

enum class ScaleMethod { Max, Percentile, Channel };
const char* scale_method_name(ScaleMethod m);
ScaleMethod parse_scale_method(const std::string& name);  // throws Error listing the names

struct ScalePolicy {
  ScaleMethod method = ScaleMethod::Channel;
  double percentile = 99.9;         // percentile method
  double ratio = 64;                // percentile method
  double channel_ratio = 8;         // channel method
  double max_channel_share = 0.02;  // channel method
  // Any method: the clip is at most this percentile of |x| (100 = no cap). A static per-tensor scale set
  // by the largest values gives coarse steps to every typical token; the shadow path adds back the part
  // of the few elements above the clip exactly, so a lower clip trades a little shadow work for accuracy.
  // `llmnpu prepare` leaves it at 100 unless --recipe auto lowers it (quant/recipe.h).
  double tail_percentile = 100;
};

struct ScaleChoice {
  float clip = 0;                     // largest |x| the int8 path represents
  float scale = 1;                    // clip / 127 (1 when the input is all zeros)
  std::vector<int> outlier_channels;  // channel method: the channels above the clip, largest first
};

ScaleChoice choose_scale(const ActivationStats& stats, const ScalePolicy& policy);

}  // namespace llmnpu::quant
