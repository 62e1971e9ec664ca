// Causal GQA attention, flash-attention style. Work item = (kv head, tile of up to kTq queries) for all
// the query heads of that kv head. Per
// key block of kBk positions: S = Q·K^T and O += P·V both go through the packed GEMM microkernels
// (K is packed transposed, V as is, once per call for all tiles), with an online softmax in between, so
// any context length streams through fixed-size per-tile buffers. Decode-sized chunks (T < kTiledMinT) use
// row kernels on the unpacked cache instead (attend_single), because packing a key block costs as much as
// using it once.
#include "kernels/attention.h"

#include <algorithm>
#include <atomic>
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
  check(a.window >= 0 && a.softcap >= 0, "attention: negative window ", a.window, " or softcap ", a.softcap);
  check(a.n_heads > 0 && a.n_kv_heads > 0 && a.n_heads % a.n_kv_heads == 0, "attention: n_heads=", a.n_heads,
        " is not a positive multiple of n_kv_heads=", a.n_kv_heads);
  check(a.head_dim > 0, "attention: head_dim must be positive, got ", a.head_dim);
}

float scale_of(const AttentionArgs& a) {
  return a.scale != 0.0f ? a.scale : 1.0f / std::sqrt(float(a.head_dim));
}

// The first key the query at position p sees.
int first_key(const AttentionArgs& a, int p) { return a.window > 0 ? std::max(0, p - a.window + 1) : 0; }

void cap_scores(float* s, int n, float cap) {
  for (int i = 0; i < n; ++i) s[i] = cap * std::tanh(s[i] / cap);
}

struct TileBuffers {
  std::vector<float> q, s, o, row_max, row_sum;
};

// K and V of every key block of every kv head, packed once per call and shared by all query tiles
// (each tile used to pack them again). Block b of kv head g holds keys [b kBk, b kBk + rows(b)),
// rows(b) = min(kBk, kv_total - b kBk): K packed as the N operand of S = Q·K^T (a prefix of it serves a
// shorter block), V as the K operand of O += P·V (rows(b) rows per panel; a tile that needs fewer keys
// multiplies each panel over its own rows only).
struct PackedKv {
  std::vector<float> k, v;
  size_t k_block = 0, v_block = 0;  // floats per block
  int blocks = 0, kv_total = 0;
  const float* keys(int g, int b) const { return k.data() + (size_t(g) * blocks + b) * k_block; }
  const float* values(int g, int b) const { return v.data() + (size_t(g) * blocks + b) * v_block; }
  int rows(int b) const { return std::min(kBk, kv_total - b * kBk); }
};

void pack_kv(const detail::FloatIsa& isa, const AttentionArgs& a, PackedKv& p, ThreadPool* pool) {
  const int d = a.head_dim;
  p.kv_total = a.q_start + a.T;
  p.blocks = (p.kv_total + kBk - 1) / kBk;
  p.k_block = detail::packed_size(kBk, d, isa.panel);
  p.v_block = detail::packed_size(d, kBk, isa.panel);
  const size_t items = size_t(a.n_kv_heads) * size_t(p.blocks);
  if (p.k.size() < items * p.k_block) p.k.resize(items * p.k_block);
  if (p.v.size() < items * p.v_block) p.v.resize(items * p.v_block);
  auto run = [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) {
      const int g = int(i / size_t(p.blocks)), b = int(i % size_t(p.blocks)), j0 = b * kBk;
      const float* kbase = a.k + size_t(g) * a.kv_head_stride;
      const float* vbase = a.v + size_t(g) * a.kv_head_stride;
      float* kd = p.k.data() + i * p.k_block;
      float* vd = p.v.data() + i * p.v_block;
      isa.pack_b_nk(kbase, a.kv_pos_stride, j0, p.rows(b), 0, d, isa.panel, kd);
      detail::pack_b_from_kn(vbase, a.kv_pos_stride, 0, d, j0, p.rows(b), isa.panel, vd);
    }
  };
  if (pool && items > 1)
    pool->parallel_for(items, [&](int, size_t i0, size_t i1) { run(i0, i1); });
  else
    run(0, items);
}

// Queries [t0, t1) of every query head sharing kv head g. The group's query rows are stacked into one
// matrix (row = head_in_group * tq + i), so each packed key/value block serves the whole group.
void attend_tile(const detail::FloatIsa& isa, const AttentionArgs& a, const PackedKv& kv, int g, int t0,
                 int t1, TileBuffers& b) {
  const int d = a.head_dim, tq = t1 - t0, group = a.n_heads / a.n_kv_heads, rows = group * tq;
  const float scale = scale_of(a);
  b.q.resize(size_t(rows) * d);
  b.s.resize(size_t(rows) * kBk);
  b.o.assign(size_t(rows) * d, 0.0f);
  b.row_max.assign(size_t(rows), -std::numeric_limits<float>::infinity());
  b.row_sum.assign(size_t(rows), 0.0f);
  // Scaling Q once is cheaper than scaling every score.
  for (int r = 0; r < rows; ++r) {
    const int h = g * group + r / tq, t = t0 + r % tq;
    const float* src = a.q + size_t(t) * a.q_row_stride + size_t(h) * d;
    for (int c = 0; c < d; ++c) b.q[size_t(r) * d + c] = src[c] * scale;
  }
  const int kv_end = a.q_start + t1;                  // the last query sees keys [0, kv_end)
  const int kv_begin = first_key(a, a.q_start + t0);  // and the first query none before this one
  for (int j0 = 0, blk = 0; j0 < kv_end; j0 += kBk, ++blk) {
    if (j0 + kBk <= kv_begin) continue;         // a block wholly outside every query's window
    const int bk = std::min(kBk, kv_end - j0);  // keys this tile needs from the block
    const int packed_rows = kv.rows(blk);       // >= bk: V's packed depth
    if (isa.gemm_packed_init) {                 // S = Q·K^T without zeroing S first
      isa.gemm_packed_init(b.q.data(), size_t(d), kv.keys(g, blk), rows, bk, d, b.s.data(), kBk, nullptr,
                           false);
    } else {
      std::fill_n(b.s.data(), size_t(rows) * kBk, 0.0f);
      isa.gemm_packed(b.q.data(), size_t(d), kv.keys(g, blk), rows, bk, d, b.s.data(), kBk);
    }
    for (int r = 0; r < rows; ++r) {
      float* srow = b.s.data() + size_t(r) * kBk;
      const int p = a.q_start + t0 + r % tq;
      const int valid = std::clamp(p - j0 + 1, 0, bk);            // causal mask
      const int lo = std::clamp(first_key(a, p) - j0, 0, valid);  // sliding window
      std::fill(srow + valid, srow + bk, 0.0f);
      std::fill(srow, srow + lo, 0.0f);
      if (valid == lo) continue;
      if (a.softcap > 0) cap_scores(srow + lo, valid - lo, a.softcap);
      const float old_max = b.row_max[size_t(r)];
      const float new_max = std::max(old_max, isa.max(srow + lo, valid - lo));
      const float sum = isa.exp_shift_sum(srow + lo, valid - lo, new_max);
      if (old_max != new_max && b.row_sum[size_t(r)] != 0.0f) {
        const float correction = std::exp(old_max - new_max);
        b.row_sum[size_t(r)] *= correction;
        isa.scale(b.o.data() + size_t(r) * d, d, correction);
      }
      b.row_max[size_t(r)] = new_max;
      b.row_sum[size_t(r)] += sum;
    }
    // O += P·V over this tile's bk keys only: V is packed with packed_rows rows per panel, so each panel
    // is its own call (same sums in the same order as one call over all panels).
    const float* v = kv.values(g, blk);
    for (int c0 = 0; c0 < d; c0 += isa.panel)
      isa.gemm_packed(b.s.data(), kBk, v + size_t(c0) * size_t(packed_rows), rows,
                      std::min(isa.panel, d - c0), bk, b.o.data() + c0, size_t(d));
  }
  for (int r = 0; r < rows; ++r) {
    const int h = g * group + r / tq, t = t0 + r % tq;
    float* dst = a.out + size_t(t) * a.out_row_stride + size_t(h) * d;
    const float inv = 1.0f / b.row_sum[size_t(r)];
    for (int c = 0; c < d; ++c) dst[c] = b.o[size_t(r) * d + c] * inv;
  }
}

// One query position t (decode) for query heads [h0, h1) of one kv group: scores by dot products,
// softmax, weighted sum of value rows. Each head's sums run in the same order as one head alone. With
// the ISA's row kernels (gemv_rows, weighted_row_sum), keys and values are taken in blocks of
// kDecodeBlock positions (32 KiB at head_dim 64: in L1 for every head of the group), each head's scores
// and weighted sums computed per block (a dot and an axpy call per key and head cost ~2x more at 1000
// keys). Otherwise a dot and an axpy per key and head, walking keys and values once for all heads.
void attend_single(const detail::FloatIsa& isa, const AttentionArgs& a, int h0, int h1, int t,
                   std::vector<float>& scores) {
  const int d = a.head_dim, group = a.n_heads / a.n_kv_heads, heads = h1 - h0;
  const int first = first_key(a, a.q_start + t);  // keys [first, q_start + t] in its window
  const float* kbase = a.k + size_t(h0 / group) * a.kv_head_stride + size_t(first) * a.kv_pos_stride;
  const float* vbase = a.v + size_t(h0 / group) * a.kv_head_stride + size_t(first) * a.kv_pos_stride;
  const float* q = a.q + size_t(t) * a.q_row_stride + size_t(h0) * d;
  float* out = a.out + size_t(t) * a.out_row_stride + size_t(h0) * d;
  const int n = a.q_start + t + 1 - first;
  const float scale = scale_of(a);
  scores.resize(size_t(heads) * size_t(n) + size_t(heads));  // then each head's sum
  float* sums = scores.data() + size_t(heads) * size_t(n);
  if (isa.weighted_row_sum) {
    constexpr int kDecodeBlock = 128;
    for (int j0 = 0; j0 < n; j0 += kDecodeBlock)
      for (int i = 0; i < heads; ++i)
        isa.gemv_rows(kbase + size_t(j0) * a.kv_pos_stride, a.kv_pos_stride, q + size_t(i) * d, d,
                      std::min(kDecodeBlock, n - j0), scores.data() + size_t(i) * n + j0);
    for (int i = 0; i < heads; ++i) {
      float* row = scores.data() + size_t(i) * n;
      for (int j = 0; j < n; ++j) row[j] *= scale;
      if (a.softcap > 0) cap_scores(row, n, a.softcap);
      sums[i] = isa.exp_shift_sum(row, n, isa.max(row, n));
      std::fill_n(out + size_t(i) * d, d, 0.0f);
    }
    for (int j0 = 0; j0 < n; j0 += kDecodeBlock)
      for (int i = 0; i < heads; ++i)
        isa.weighted_row_sum(scores.data() + size_t(i) * n + j0, std::min(kDecodeBlock, n - j0),
                             vbase + size_t(j0) * a.kv_pos_stride, a.kv_pos_stride, d, out + size_t(i) * d);
  } else {
    for (int j = 0; j < n; ++j) {
      const float* key = kbase + size_t(j) * a.kv_pos_stride;
      for (int i = 0; i < heads; ++i) scores[size_t(i) * n + j] = isa.dot(q + size_t(i) * d, key, d) * scale;
    }
    for (int i = 0; i < heads; ++i) {
      float* row = scores.data() + size_t(i) * n;
      if (a.softcap > 0) cap_scores(row, n, a.softcap);
      sums[i] = isa.exp_shift_sum(row, n, isa.max(row, n));
      std::fill_n(out + size_t(i) * d, d, 0.0f);
    }
    for (int j = 0; j < n; ++j) {
      const float* value = vbase + size_t(j) * a.kv_pos_stride;
      for (int i = 0; i < heads; ++i) isa.axpy(scores[size_t(i) * n + j], value, out + size_t(i) * d, d);
    }
  }
  for (int i = 0; i < heads; ++i) isa.scale(out + size_t(i) * d, d, 1.0f / sums[i]);
}

}  // namespace

void causal_attention(const AttentionArgs& a, ThreadPool* pool) {
  validate(a);
  if (a.T == 0) return;
  const detail::FloatIsa& isa = detail::float_isa();
  if (a.T < kTiledMinT) {
    // Item = (position, kv group, part of the group's heads): whole groups share the key/value walk;
    // groups are split only as far as needed to give every thread work.
    const int group = a.n_heads / a.n_kv_heads, threads = pool ? pool->size() : 1;
    const int parts = std::clamp(2 * threads / (a.n_kv_heads * a.T), 1, group);
    const size_t items = size_t(a.T) * size_t(a.n_kv_heads) * size_t(parts);
    auto run = [&](size_t i0, size_t i1) {
      thread_local std::vector<float> scores;
      for (size_t i = i0; i < i1; ++i) {
        const int t = int(i / (size_t(a.n_kv_heads) * parts)), rest = int(i % (size_t(a.n_kv_heads) * parts));
        const int g = rest / parts, part = rest % parts;
        const int h0 = g * group + group * part / parts, h1 = g * group + group * (part + 1) / parts;
        if (h0 < h1) attend_single(isa, a, h0, h1, t, scores);
      }
    };
    if (!pool) return run(0, items);
    return pool->parallel_for(items, [&](int, size_t i0, size_t i1) { run(i0, i1); });
  }
  // The caller's buffer, filled here and read by every thread below through this reference (inside the
  // lambda the thread_local's own name would mean each worker's own, empty, instance).
  thread_local PackedKv callers_packed;
  const PackedKv& packed = callers_packed;
  pack_kv(isa, a, callers_packed, pool);
  const int tiles = (a.T + kTq - 1) / kTq;
  // Item = (query tile, kv head), handed out heaviest first (later tiles see more keys) from a shared
  // counter: a thread that is slowed down (shared cores) leaves the rest of the work to the others.
  const size_t items = size_t(a.n_kv_heads) * size_t(tiles);
  std::atomic<size_t> next{0};
  auto run = [&](int) {
    thread_local TileBuffers buffers;
    for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < items;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      const int g = int(i % size_t(a.n_kv_heads)), tile = tiles - 1 - int(i / size_t(a.n_kv_heads));
      attend_tile(isa, a, packed, g, tile * kTq, std::min(a.T, (tile + 1) * kTq), buffers);
    }
  };
  if (!pool || items == 1) return run(0);
  pool->run_on_all(run);
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
      const int first = a.window > 0 ? std::max(0, n - a.window) : 0;
      p.assign(size_t(n), 0.0);
      double mx = -std::numeric_limits<double>::infinity(), sum = 0;
      for (int j = first; j < n; ++j) {
        double s = 0;
        for (int c = 0; c < d; ++c) s += double(q[c]) * kbase[size_t(j) * a.kv_pos_stride + c];
        p[size_t(j)] = s * scale;
        if (a.softcap > 0) p[size_t(j)] = a.softcap * std::tanh(p[size_t(j)] / a.softcap);
        mx = std::max(mx, p[size_t(j)]);
      }
      for (int j = first; j < n; ++j) sum += p[size_t(j)] = std::exp(p[size_t(j)] - mx);
      float* dst = a.out + size_t(t) * a.out_row_stride + size_t(h) * d;
      for (int c = 0; c < d; ++c) {
        double o = 0;
        for (int j = 0; j < n; ++j) o += p[size_t(j)] * vbase[size_t(j) * a.kv_pos_stride + c];
        dst[c] = float(o / sum);
      }
    }
}

}  // namespace llmnpu::kernels
