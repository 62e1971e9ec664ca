// Causal GQA attention against the double-precision two-pass reference.
#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/float_isa.h"

namespace llmnpu::kernels {
namespace {

std::vector<const detail::FloatIsa*> available_isas() { return detail::float_isas_available(); }

struct ForceIsa {
  explicit ForceIsa(const detail::FloatIsa* isa) { detail::force_float_isa(isa); }
  ~ForceIsa() { detail::force_float_isa(nullptr); }
};

std::vector<float> random_vector(size_t n, uint32_t seed, float range) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-range, range);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Case {
  int T, q_start, n_heads, n_kv_heads, head_dim;
  bool position_major;  // cache [position][kv_head][dim] instead of [kv_head][position][dim]
  int window = 0;       // sliding window (0 = none)
  float softcap = 0;    // score softcap (0 = none)
};

// Runs one case: reference, single-threaded and threaded; returns false on mismatch (with gtest failures).
void run_case(const Case& c, ThreadPool& pool) {
  const int kv_len = c.q_start + c.T, capacity = kv_len + 3, d = c.head_dim;
  const size_t q_stride = size_t(c.n_heads) * d + 2, out_stride = size_t(c.n_heads) * d + 1;
  // Scores of a few units: the softmax is neither flat nor one-hot.
  auto q = random_vector(size_t(c.T) * q_stride + 1, 11, 2.0f);
  auto k = random_vector(size_t(capacity) * c.n_kv_heads * d + 1, 12, 2.0f);
  auto v = random_vector(k.size(), 13, 1.0f);
  AttentionArgs a;
  a.q = q.data() + 1;
  a.q_row_stride = q_stride;
  a.T = c.T;
  a.q_start = c.q_start;
  a.k = k.data() + 1;
  a.v = v.data() + 1;
  if (c.position_major) {
    a.kv_pos_stride = size_t(c.n_kv_heads) * d;
    a.kv_head_stride = size_t(d);
  } else {
    a.kv_pos_stride = size_t(d);
    a.kv_head_stride = size_t(capacity) * d;
  }
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = d;
  a.window = c.window;
  a.softcap = c.softcap;
  std::vector<float> want(size_t(c.T) * out_stride, -7.0f), got = want, got_threaded = want;
  a.out = want.data();
  a.out_row_stride = out_stride;
  causal_attention_reference(a);
  a.out = got.data();
  causal_attention(a);
  a.out = got_threaded.data();
  causal_attention(a, &pool);
  SCOPED_TRACE(testing::Message() << detail::float_isa().name << " T=" << c.T << " q_start=" << c.q_start
                                  << " heads=" << c.n_heads << "/" << c.n_kv_heads << " d=" << d
                                  << " position_major=" << c.position_major << " window=" << c.window
                                  << " softcap=" << c.softcap);
  for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << "at " << i;
  ASSERT_EQ(got, got_threaded);
}

TEST(Attention, MatchesReference) {
  ThreadPool pool(2);
  const Case cases[] = {
      {1, 0, 1, 1, 64, false},     // first token
      {1, 300, 14, 2, 64, false},  // decode, GQA 7
      {1, 300, 7, 1, 80, false},   // decode, head_dim 80 (a partial 64-column pass)
      {1, 127, 14, 2, 64, true},   // decode, keys exactly one block of 128
      {3, 40, 4, 2, 128, true},    // short chunk (dot-product path)
      {7, 0, 2, 2, 80, false},     // head_dim 80, no GQA
      {33, 0, 14, 2, 64, false},   // prefill from scratch, GQA 7
      {70, 129, 4, 2, 64, true},   // chunk i > 0 of a prompt, crosses tile and block edges
      {257, 0, 2, 1, 128, false},  // several query tiles and key blocks
      {65, 200, 7, 1, 80, false},  // GQA 7, odd head_dim
      {16, 5, 3, 3, 2, false},     // tiny head_dim
      // Sliding windows (keys (p - window, p]) and score softcaps: windows inside one key block, across
      // blocks, longer than the context, and whole blocks outside every query's window.
      {1, 300, 14, 2, 64, false, 16},
      {1, 300, 7, 1, 80, true, 200, 5.0f},
      {3, 40, 4, 2, 128, true, 7},
      {70, 129, 4, 2, 64, true, 16, 5.0f},
      {257, 0, 2, 1, 96, false, 130},
      {65, 300, 7, 1, 80, false, 33},
      {40, 10, 2, 2, 64, false, 4096, 15.0f},
      {33, 0, 2, 1, 64, false, 0, 5.0f},
  };
  for (const detail::FloatIsa* isa : available_isas()) {
    ForceIsa force(isa);
    for (const Case& c : cases) ASSERT_NO_FATAL_FAILURE(run_case(c, pool));
  }
}

TEST(Attention, FirstQueryCopiesFirstValue) {
  // Query at position 0 sees only key 0: output = v[0] exactly up to rounding.
  std::vector<float> q = {1, 2, 3, 4}, k = {5, 6, 7, 8}, v = {0.5f, -1, 2, 3};
  std::vector<float> out(4);
  AttentionArgs a;
  a.q = q.data(), a.q_row_stride = 4, a.T = 1, a.q_start = 0;
  a.k = k.data(), a.v = v.data(), a.kv_pos_stride = 4, a.kv_head_stride = 4;
  a.n_heads = 1, a.n_kv_heads = 1, a.head_dim = 4;
  a.out = out.data(), a.out_row_stride = 4;
  causal_attention(a);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[i], v[i]);
}

TEST(Attention, EmptyChunkAndBadHeads) {
  AttentionArgs a;
  a.n_heads = 4, a.n_kv_heads = 2, a.head_dim = 8, a.T = 0;
  EXPECT_NO_THROW(causal_attention(a));
  a.n_kv_heads = 3;
  EXPECT_THROW(causal_attention(a), Error);
  a.n_kv_heads = 0;
  EXPECT_THROW(causal_attention(a), Error);
}

}  // namespace
}  // namespace llmnpu::kernels
