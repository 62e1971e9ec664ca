#pragma once
// The resident-memory budget of the shadow path. Each linear first takes its hot channels (the smallest
// set covering --hot-share of its calibration outliers); when all linears together would keep more
// resident bytes (hot F16 rows + weight outliers) than the budget, hot channels are cut back globally,
// keeping those with the most calibration outliers per resident byte (greedy over all linears). A cut
// channel becomes cold: its row is read from the mapped file on demand, so accuracy does not change.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmnpu::quant {

struct HotChannelRequest {
  std::vector<int32_t> channels;           // the share-selected hot channels
  std::vector<uint64_t> channel_outliers;  // calibration outliers per input channel (all channels)
  size_t row_bytes = 0;                    // resident bytes of one hot row (F16 x out features)
  size_t fixed_bytes = 0;                  // resident bytes that stay regardless (weight outliers)
};

struct BudgetedHotChannels {
  std::vector<std::vector<int32_t>> channels;  // per request: the kept hot channels, increasing
  size_t resident_bytes = 0;                   // fixed bytes + kept rows
  size_t requested_bytes = 0;                  // fixed bytes + all requested rows
  size_t dropped_channels = 0;                 // requested hot channels made cold
  bool fits = true;                            // resident_bytes <= budget (false only when fixed > budget)
};

// Keeps every request when it fits in budget_bytes; otherwise keeps, across all requests, the channels
// with the most outliers per row byte while they fit (a channel that does not fit is skipped and the
// scan goes on to cheaper ones). Ties: earlier request, then lower channel. Channels with no outliers are
// never kept over budget.
BudgetedHotChannels fit_hot_channels(const std::vector<HotChannelRequest>& requests, size_t budget_bytes);

}  // namespace llmnpu::quant
