#include "prepare/accuracy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.h"
#include "core/thread_pool.h"

namespace llmnpu {

std::vector<std::vector<int32_t>> make_windows(const std::vector<int32_t>& tokens, int window, int32_t bos) {
  const int per = bos >= 0 ? window - 1 : window;
  check(per >= 1, "window of ", window, " tokens is too small");
  std::vector<std::vector<int32_t>> out;
  for (size_t b = 0; b < tokens.size(); b += size_t(per)) {
    const size_t e = std::min(tokens.size(), b + size_t(per));
    std::vector<int32_t> w;
    if (bos >= 0) w.push_back(bos);
    w.insert(w.end(), tokens.begin() + long(b), tokens.begin() + long(e));
    if (w.size() >= 2) out.push_back(std::move(w));
  }
  return out;
}

namespace {

// log softmax in double.
void log_softmax(const float* logits, int n, std::vector<double>& out) {
  out.resize(size_t(n));
  double m = -INFINITY;
  for (int i = 0; i < n; ++i) m = std::max(m, double(logits[i]));
  double s = 0;
  for (int i = 0; i < n; ++i) s += std::exp(double(logits[i]) - m);
  const double lse = m + std::log(s);
  for (int i = 0; i < n; ++i) out[size_t(i)] = double(logits[i]) - lse;
}

int argmax(const float* v, int n) { return int(std::max_element(v, v + n) - v); }

// fn(scratch, r, pos, logits of row r) for each row of a chunk whose position has a next token
// (pos < T): rows in parallel on the pool, each thread with its own scratch; each row's work is serial.
template <typename Fn>
void for_scored_rows(ThreadPool& pool, std::vector<std::vector<double>>& scratch, int pos0, int rows, int T,
                     const float* logits, int vocab, const Fn& fn) {
  pool.parallel_for(size_t(rows), [&](int thread, size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r)
      if (pos0 + int(r) < T) fn(scratch[size_t(thread)], r, pos0 + int(r), logits + r * size_t(vocab));
  });
}

struct Accumulator {
  std::vector<double> kl;
  uint64_t agree = 0;
  double nll_ref = 0, nll = 0;
};

}  // namespace

// Windows are prefilled in chunks of this many tokens (an engine holds one chunk's logits). In lockstep
// the reference's log-probabilities are held for one chunk (128 x 152k floats = 78 MB on qwen2.5 shapes),
// not for the window (311 MB at 512 positions), and each variant keeps its own KV cache between chunks
// (variants may share one engine), swapped into its engine for its chunk. Those caches cost variants x
// the KV cache of a window (13 MB each on qwen2.5-0.5b, 537 MB on llama-2-7b): where they would outweigh
// the window's log-probabilities (a small vocabulary, a large cache), whole windows go through the
// reference and then each variant, in the same 128-token chunks.
constexpr int kLogitChunk = 128;

std::vector<AccuracyResult> compare_to_reference(Engine& reference,
                                                 const std::vector<AccuracyVariant>& variants,
                                                 const std::vector<int32_t>& tokens, int window, int32_t bos,
                                                 const std::function<void(int, int)>& progress,
                                                 ComparisonOrder order) {
  const int vocab = reference.config().vocab_size;
  const auto windows = make_windows(tokens, window, bos);
  std::vector<Accumulator> acc(variants.size());
  const size_t logit_bytes = size_t(vocab) * sizeof(float);
  const size_t lockstep_bytes = variants.size() * reference.cache().bytes() + kLogitChunk * logit_bytes;
  size_t longest = 0;
  for (const auto& w : windows) longest = std::max(longest, w.size());
  const bool lockstep = order == ComparisonOrder::Lockstep ||
                        (order == ComparisonOrder::Smaller && lockstep_bytes < longest * logit_bytes);
  const int chunk = std::min(kLogitChunk, reference.context());
  std::vector<KvCache> caches;  // per variant: its keys and values of the window so far
  if (lockstep)
    for (const AccuracyVariant& v : variants) {
      const KvCache& c = v.engine->cache();
      caches.emplace_back(c.n_layers(), c.n_kv_heads(), c.head_dim(), c.capacity());
    }
  // A chunk's positions are scored in parallel on the reference engine's pool (idle while its callback
  // runs); each position's arithmetic is serial as ever, so the results do not depend on the threads.
  ThreadPool& pool = reference.pool();
  std::vector<std::vector<double>> scratch(size_t(pool.size()));  // log-probabilities of one row
  std::vector<float> ref_logp;                                    // [chunk][vocab]
  std::vector<int> ref_top;
  std::vector<double> ref_nll, kl;
  std::vector<uint8_t> agree;
  std::vector<double> nll;
  int done = 0;
  for (const auto& w : windows) {
    const int T = int(w.size()) - 1;  // positions with a next token
    reference.reset();
    const int span = lockstep ? chunk : int(w.size());  // positions through every model before the next
    for (int c0 = 0; c0 < int(w.size()); c0 += span) {
      const std::vector<int32_t> part(w.begin() + c0, w.begin() + std::min(int(w.size()), c0 + span));
      ref_logp.assign(part.size() * size_t(vocab), 0.0f);
      ref_top.assign(part.size(), 0);
      ref_nll.assign(part.size(), 0.0);
      reference.prefill_chunk_logits(part, chunk, [&](int pos0, int rows, const float* logits) {
        for_scored_rows(pool, scratch, pos0, rows, T, logits, vocab,
                        [&](std::vector<double>& l, size_t, int pos, const float* row) {
                          log_softmax(row, vocab, l);
                          const size_t at = size_t(pos - c0);
                          float* dst = ref_logp.data() + at * size_t(vocab);
                          for (int i = 0; i < vocab; ++i) dst[i] = float(l[size_t(i)]);
                          ref_top[at] = argmax(row, vocab);
                          ref_nll[at] = -l[size_t(w[size_t(pos) + 1])];
                        });
      });
      for (size_t v = 0; v < variants.size(); ++v) {
        if (variants[v].activate) variants[v].activate();
        Engine& e = *variants[v].engine;
        if (lockstep) std::swap(e.cache(), caches[v]);
        e.reset();
        e.commit_position(c0);
        Accumulator& a = acc[v];
        e.prefill_chunk_logits(
            part, std::min(chunk, e.context()), [&](int pos0, int rows, const float* logits) {
              kl.assign(size_t(rows), 0.0);
              agree.assign(size_t(rows), 0);
              nll.assign(size_t(rows), 0.0);
              for_scored_rows(pool, scratch, pos0, rows, T, logits, vocab,
                              [&](std::vector<double>& q, size_t r, int pos, const float* row) {
                                const size_t at = size_t(pos - c0);
                                log_softmax(row, vocab, q);
                                const float* p = ref_logp.data() + at * size_t(vocab);
                                double sum = 0;
                                for (int i = 0; i < vocab; ++i) {
                                  const double lpi = double(p[i]);
                                  sum += std::exp(lpi) * (lpi - q[size_t(i)]);
                                }
                                kl[r] = std::max(sum, 0.0);
                                agree[r] = argmax(row, vocab) == ref_top[at] ? 1 : 0;
                                nll[r] = -q[size_t(w[size_t(pos) + 1])];
                              });
              for (int r = 0; r < rows && pos0 + r < T; ++r) {  // in position order, as a serial loop adds
                a.kl.push_back(kl[size_t(r)]);
                a.agree += agree[size_t(r)];
                a.nll += nll[size_t(r)];
                a.nll_ref += ref_nll[size_t(pos0 + r - c0)];
              }
            });
        if (lockstep) std::swap(e.cache(), caches[v]);
      }
    }
    if (progress) progress(++done, int(windows.size()));
  }
  std::vector<AccuracyResult> out;
  for (size_t v = 0; v < variants.size(); ++v) {
    Accumulator& a = acc[v];
    AccuracyResult r;
    r.name = variants[v].name;
    r.tokens = int(a.kl.size());
    if (!a.kl.empty()) {
      double s = 0;
      for (double k : a.kl) s += k;
      r.mean_kl = s / double(a.kl.size());
      std::vector<double> sorted = a.kl;
      std::sort(sorted.begin(), sorted.end());
      r.max_kl = sorted.back();
      r.p99_kl = sorted[std::min(sorted.size() - 1, size_t(std::ceil(0.99 * double(sorted.size()))) - 1)];
      r.top1_agreement = double(a.agree) / double(a.kl.size());
      r.ppl_ref = std::exp(a.nll_ref / double(a.kl.size()));
      r.ppl = std::exp(a.nll / double(a.kl.size()));
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace llmnpu
