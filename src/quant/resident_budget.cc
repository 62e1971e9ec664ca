#include "quant/resident_budget.h"

#include <algorithm>

#include "core/error.h"

namespace llmnpu::quant {

BudgetedHotChannels fit_hot_channels(const std::vector<HotChannelRequest>& requests, size_t budget_bytes) {
  BudgetedHotChannels r;
  size_t fixed = 0;
  for (const auto& q : requests) {
    fixed += q.fixed_bytes;
    r.requested_bytes += q.fixed_bytes + q.channels.size() * q.row_bytes;
  }
  if (r.requested_bytes <= budget_bytes) {
    for (const auto& q : requests) {
      r.channels.push_back(q.channels);
      std::sort(r.channels.back().begin(), r.channels.back().end());
    }
    r.resident_bytes = r.requested_bytes;
    return r;
  }
  struct Item {
    size_t request;
    int32_t channel;
    uint64_t outliers;
    size_t bytes;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < requests.size(); ++i)
    for (int32_t k : requests[i].channels) {
      check(k >= 0 && size_t(k) < requests[i].channel_outliers.size(), "hot channel ", k,
            " out of range in request ", i);
      items.push_back({i, k, requests[i].channel_outliers[size_t(k)], requests[i].row_bytes});
    }
  // Outliers per byte, compared exactly: a.outliers / a.bytes > b.outliers / b.bytes.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    const unsigned __int128 lhs = (unsigned __int128)a.outliers * b.bytes;
    const unsigned __int128 rhs = (unsigned __int128)b.outliers * a.bytes;
    if (lhs != rhs) return lhs > rhs;
    if (a.request != b.request) return a.request < b.request;
    return a.channel < b.channel;
  });
  r.channels.assign(requests.size(), {});
  r.fits = fixed <= budget_bytes;
  size_t used = fixed;
  for (const Item& it : items) {
    if (it.outliers == 0 || used + it.bytes > budget_bytes) {
      ++r.dropped_channels;
      continue;
    }
    used += it.bytes;
    r.channels[it.request].push_back(it.channel);
  }
  for (auto& c : r.channels) std::sort(c.begin(), c.end());
  r.resident_bytes = used;
  return r;
}

}  // namespace llmnpu::quant
