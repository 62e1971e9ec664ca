#pragma once
// The BPE merge loop shared by both vocab kinds: repeatedly merge the adjacent pair with the best
// (lowest) priority, leftmost first on ties, using a heap over a linked list of symbols (O(n log n)).
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

namespace llmnpu {

struct BpeMerge {
  double priority;  // lower merges first
  int32_t merged_id;
};

// rule(left_id, right_id) -> std::optional<BpeMerge>. Merges ids in place.
template <typename Rule>
void bpe_merge(std::vector<int32_t>& ids, const Rule& rule) {
  const int n = int(ids.size());
  if (n < 2) return;
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    double priority;
    int left, right;
    int32_t left_id, right_id, merged_id;
    bool operator>(const Candidate& o) const {
      return priority > o.priority || (priority == o.priority && left > o.left);
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    if (std::optional<BpeMerge> m = rule(ids[left], ids[right]))
      heap.push({m->priority, left, right, ids[left], ids[right], m->merged_id});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i, i + 1);
  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    // Skip candidates made stale by an earlier merge.
    if (!alive[c.left] || !alive[c.right] || next[c.left] != c.right || ids[c.left] != c.left_id ||
        ids[c.right] != c.right_id)
      continue;
    ids[c.left] = c.merged_id;
    alive[c.right] = false;
    next[c.left] = next[c.right];
    if (next[c.left] >= 0) prev[next[c.left]] = c.left;
    consider(prev[c.left], c.left);
    consider(c.left, next[c.left]);
  }
  size_t out = 0;
  for (int i = 0; i >= 0; i = next[i]) ids[out++] = ids[i];
  ids.resize(out);
}

}  // namespace llmnpu
