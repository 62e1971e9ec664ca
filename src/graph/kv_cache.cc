#include "graph/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace llmnpu {

KvCache::KvCache(int n_layers, int n_kv_heads, int head_dim, int capacity)
    : n_layers_(n_layers),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim),
      capacity_(capacity),
      k_(size_t(n_layers) * size_t(n_kv_heads) * size_t(std::max(capacity, 0)) * size_t(head_dim)),
      v_(k_.size()) {
  check(capacity > 0, "context size must be positive");
}

void KvCache::store(int layer, int pos0, int T, const float* k, size_t ldk, const float* v, size_t ldv) {
  check(layer >= 0 && layer < n_layers_, "KV cache: layer ", layer, " outside 0..", n_layers_ - 1);
  check(pos0 >= 0 && pos0 + T <= capacity_, "KV cache overflow: positions ", pos0, "..", pos0 + T,
        " exceed the context of ", capacity_, " tokens");
  float* kd = keys(layer);
  float* vd = values(layer);
  size_t bytes = size_t(head_dim_) * sizeof(float);
  for (int t = 0; t < T; ++t)
    for (int g = 0; g < n_kv_heads_; ++g) {
      size_t dst = size_t(g) * head_stride() + size_t(pos0 + t) * pos_stride();
      std::memcpy(kd + dst, k + size_t(t) * ldk + size_t(g) * size_t(head_dim_), bytes);
      std::memcpy(vd + dst, v + size_t(t) * ldv + size_t(g) * size_t(head_dim_), bytes);
    }
}

}  // namespace llmnpu
