// Causal GQA attention, flash-attention style. Work item = (kv head, tile of up to kTq queries) for all
// the query heads of that kv head. Per
// key block of kBk positions: S = Q·K^T and O += P·V both go through the packed GEMM microkernels
// (K is packed transposed, V as is), with an online softmax in between, so any context length streams
// through fixed-size buffers. Decode-sized chunks (T < kTiledMinT) use dot products instead, because
// packing a key block costs as much as using it once.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels {
namespace {

constexpr int kTq = 64;        // queries per tile
constexpr int kBk = 128;       // keys per block
constexpr int kTiledMinT = 4;  // below this, the dot-product path

void validate(const AttentionArgs& a) {
  check(a.T >= 0 && a.q_start >= 0, "attention: negative T=", a.T, " or q_start=", a.q_start);
  check(a.n_heads > 0 && a.n_kv_heads > 0 && a.n_heads % a.n_kv_heads == 0, "attention: n_heads=", a.n_heads,
        " is not a positive multiple of n_kv_heads=", a.n_kv_heads);
  check(a.head_dim > 0, "attention: head_dim must be positive, got ", a.head_dim);
}

float scale_of(const AttentionArgs& a) {
  return a.scale != 0.0f ? a.scale : 1.0f / std::sqrt(float(a.head_dim));
}

struct TileBuffers {
  std::vector<float> q, s, k_packed, v_packed, o, row_max, row_sum;
};

// Queries [t0, t1) of every query head sharing kv head g. The group's query rows are stacked into one
// matrix (row = head_in_group * tq + i), so each packed key/value block serves the whole group.
void attend_tile(const detail::FloatIsa& isa, const AttentionArgs& a, int g, int t0, int t1, TileBuffers& b) {
  const int d = a.head_dim, tq = t1 - t0, group = a.n_heads / a.n_kv_heads, rows = group * tq;
  const float* kbase = a.k + size_t(g) * a.kv_head_stride;
  const float* vbase = a.v + size_t(g) * a.kv_head_stride;
  const float scale = scale_of(a);
  b.q.resize(size_t(rows) * d);
  b.s.resize(size_t(rows) * kBk);
  b.k_packed.resize(detail::packed_size(kBk, d, isa.panel));
  b.v_packed.resize(detail::packed_size(d, kBk, isa.panel));
  b.o.assign(size_t(rows) * d, 0.0f);
  b.row_max.assign(size_t(rows), -std::numeric_limits<float>::infinity());
  b.row_sum.assign(size_t(rows), 0.0f);
  // Scaling Q once is cheaper than scaling every score.
  for (int r = 0; r < rows; ++r) {
    const int h = g * group + r / tq, t = t0 + r % tq;
    const float* src = a.q + size_t(t) * a.q_row_stride + size_t(h) * d;
    for (int c = 0; c < d; ++c) b.q[size_t(r) * d + c] = src[c] * scale;
  }
  const int kv_end = a.q_start + t1;  // the last query sees keys [0, kv_end)
  for (int j0 = 0; j0 < kv_end; j0 += kBk) {
    const int bk = std::min(kBk, kv_end - j0);
    isa.pack_b_nk(kbase, a.kv_pos_stride, j0, bk, 0, d, isa.panel, b.k_packed.data());
    if (isa.gemm_packed_init) {  // S = Q·K^T without zeroing S first
      isa.gemm_packed_init(b.q.data(), size_t(d), b.k_packed.data(), rows, bk, d, b.s.data(), kBk, nullptr,
                           false);
    } else {
      std::fill_n(b.s.data(), size_t(rows) * kBk, 0.0f);
      isa.gemm_packed(b.q.data(), size_t(d), b.k_packed.data(), rows, bk, d, b.s.data(), kBk);
    }
    for (int r = 0; r < rows; ++r) {
      float* srow = b.s.data() + size_t(r) * kBk;
      const int valid = std::clamp(a.q_start + t0 + r % tq - j0 + 1, 0, bk);  // causal mask
      std::fill(srow + valid, srow + bk, 0.0f);
      if (valid == 0) continue;
      const float old_max = b.row_max[size_t(r)];
      const float new_max = std::max(old_max, isa.max(srow, valid));
      const float sum = isa.exp_shift_sum(srow, valid, new_max);
      if (old_max != new_max && b.row_sum[size_t(r)] != 0.0f) {
        const float correction = std::exp(old_max - new_max);
        b.row_sum[size_t(r)] *= correction;
        isa.scale(b.o.data() + size_t(r) * d, d, correction);
      }
      b.row_max[size_t(r)] = new_max;
      b.row_sum[size_t(r)] += sum;
    }
    detail::pack_b_from_kn(vbase, a.kv_pos_stride, 0, d, j0, bk, isa.panel, b.v_packed.data());
    isa.gemm_packed(b.s.data(), kBk, b.v_packed.data(), rows, d, bk, b.o.data(), size_t(d));
  }
  for (int r = 0; r < rows; ++r) {
    const int h = g * group + r / tq, t = t0 + r % tq;
    float* dst = a.out + size_t(t) * a.out_row_stride + size_t(h) * d;
    const float inv = 1.0f / b.row_sum[size_t(r)];
    for (int c = 0; c < d; ++c) dst[c] = b.o[size_t(r) * d + c] * inv;
  }
}

// One query (decode): scores by dot products, softmax, weighted sum of value rows.
void attend_single(const detail::FloatIsa& isa, const AttentionArgs& a, int h, int t,
                   std::vector<float>& scores) {
  const int d = a.head_dim, group = a.n_heads / a.n_kv_heads;
  const float* kbase = a.k + size_t(h / group) * a.kv_head_stride;
  const float* vbase = a.v + size_t(h / group) * a.kv_head_stride;
  const float* q = a.q + size_t(t) * a.q_row_stride + size_t(h) * d;
  const int n = a.q_start + t + 1;
  const float scale = scale_of(a);
  scores.resize(size_t(n));
  for (int j = 0; j < n; ++j) scores[size_t(j)] = isa.dot(q, kbase + size_t(j) * a.kv_pos_stride, d) * scale;
  const float sum = isa.exp_shift_sum(scores.data(), n, isa.max(scores.data(), n));
  float* dst = a.out + size_t(t) * a.out_row_stride + size_t(h) * d;
  std::fill_n(dst, d, 0.0f);
  for (int j = 0; j < n; ++j) isa.axpy(scores[size_t(j)], vbase + size_t(j) * a.kv_pos_stride, dst, d);
  isa.scale(dst, d, 1.0f / sum);
}

}  // namespace

void causal_attention(const AttentionArgs& a, ThreadPool* pool) {
  validate(a);
  if (a.T == 0) return;
  const detail::FloatIsa& isa = detail::float_isa();
  if (a.T < kTiledMinT) {
    const size_t items = size_t(a.n_heads) * size_t(a.T);
    auto run = [&](size_t i0, size_t i1) {
      thread_local std::vector<float> scores;
      for (size_t i = i0; i < i1; ++i)
        attend_single(isa, a, int(i / size_t(a.T)), int(i % size_t(a.T)), scores);
    };
    if (!pool) return run(0, items);
    return pool->parallel_for(items, [&](int, size_t i0, size_t i1) { run(i0, i1); });
  }
  const int tiles = (a.T + kTq - 1) / kTq;
  // Item = (query tile, kv head). Later tiles see more keys, so tiles are visited heavy, light, next
  // heavy, next light... and contiguous ranges of items carry similar work.
  const size_t items = size_t(a.n_kv_heads) * size_t(tiles);
  auto run = [&](size_t i0, size_t i1) {
    thread_local TileBuffers buffers;
    for (size_t i = i0; i < i1; ++i) {
      const int g = int(i % size_t(a.n_kv_heads)), j = int(i / size_t(a.n_kv_heads));
      const int tile = j % 2 == 0 ? tiles - 1 - j / 2 : j / 2;
      attend_tile(isa, a, g, tile * kTq, std::min(a.T, (tile + 1) * kTq), buffers);
    }
  };
  if (!pool) return run(0, items);
  pool->parallel_for(items, [&](int, size_t i0, size_t i1) { run(i0, i1); });
}

void causal_attention_reference(const AttentionArgs& a) {
  validate(a);
  const int d = a.head_dim, group = a.n_heads / a.n_kv_heads;
  const double scale = a.scale != 0.0f ? a.scale : 1.0 / std::sqrt(double(d));
  std::vector<double> p;
  for (int t = 0; t < a.T; ++t)
    for (int h = 0; h < a.n_heads; ++h) {
      const float* q = a.q + size_t(t) * a.q_row_stride + size_t(h) * d;
      const float* kbase = a.k + size_t(h / group) * a.kv_head_stride;
      const float* vbase = a.v + size_t(h / group) * a.kv_head_stride;
      const int n = a.q_start + t + 1;
      p.assign(size_t(n), 0.0);
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int j = 0; j < n; ++j) {
        double s = 0;
        for (int c = 0; c < d; ++c) s += double(q[c]) * kbase[size_t(j) * a.kv_pos_stride + c];
        p[size_t(j)] = s * scale;
        mx = std::max(mx, p[size_t(j)]);
      }
      for (double& x : p) sum += x = std::exp(x - mx);
      float* dst = a.out + size_t(t) * a.out_row_stride + size_t(h) * d;
      for (int c = 0; c < d; ++c) {
        double o = 0;
        for (int j = 0; j < n; ++j) o += p[size_t(j)] * vbase[size_t(j) * a.kv_pos_stride + c];
        dst[c] = float(o / sum);
      }
    }
}

}  // namespace llmnpu::kernels
