#include "runtime/perplexity.h"

#include <cmath>

#include "core/error.h"

namespace llmnpu {

double token_logprob(const float* logits, int vocab, int32_t id) {
  double max = logits[0];
  for (int i = 1; i < vocab; ++i) max = std::max(max, double(logits[i]));
  double sum = 0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(double(logits[i]) - max);
  return double(logits[id]) - max - std::log(sum);
}

void summarize_nll(const std::vector<double>& nll, double* mean, double* ppl, double* ppl_stderr) {
  double n = double(nll.size()), s = 0, s2 = 0;
  for (double v : nll) {
    s += v;
    s2 += v * v;
  }
  *mean = n > 0 ? s / n : 0;
  *ppl = std::exp(*mean);
  double var = n > 1 ? std::max(0.0, (s2 / n - *mean * *mean) * n / (n - 1)) : 0;
  *ppl_stderr = n > 0 ? *ppl * std::sqrt(var / n) : 0;
}

namespace {

// Prefills one window and scores ids[next] for next >= first_next (the logits at next - 1 predict it),
// recording it at position base + next of the whole stream.
void score_window(Engine& engine, const std::vector<int32_t>& ids, int chunk_len, int first_next, int base,
                  PerplexityResult& result, std::vector<double>& nll) {
  const int vocab = engine.config().vocab_size;
  engine.reset();
  engine.prefill(ids, chunk_len, [&](int pos, const float* logits) {
    const int next = pos + 1;
    if (next < first_next || next >= int(ids.size())) return;
    const int32_t id = ids[size_t(next)];
    const double lp = token_logprob(logits, vocab, id);
    result.tokens.push_back({id, base + next, lp});
    nll.push_back(-lp);
  });
}

}  // namespace

PerplexityResult compute_perplexity(Engine& engine, const std::vector<int32_t>& text, int window, int32_t bos,
                                    int max_windows, int chunk_len,
                                    const std::function<void(int, int)>& progress) {
  check(window >= 2 && window <= engine.context(), "perplexity window ", window, " must be in 2..",
        engine.context());
  int text_per_window = bos >= 0 ? window - 1 : window;
  int total = int(text.size()) / text_per_window;
  check(total > 0, "the text has ", text.size(), " tokens, fewer than one window of ", text_per_window,
        " (lower -c)");
  if (max_windows > 0) total = std::min(total, max_windows);

  PerplexityResult result;
  std::vector<double> nll;
  for (int w = 0; w < total; ++w) {
    size_t begin = size_t(w) * size_t(text_per_window);
    std::vector<int32_t> ids;
    if (bos >= 0) ids.push_back(bos);
    ids.insert(ids.end(), text.begin() + long(begin), text.begin() + long(begin + size_t(text_per_window)));
    const int offset = bos >= 0 ? 1 : 0;  // index in ids of the first text token
    score_window(engine, ids, chunk_len, std::max(1, offset), int(begin) - offset, result, nll);
    ++result.windows;
    if (progress) progress(w + 1, total);
  }
  summarize_nll(nll, &result.mean_nll, &result.perplexity, &result.perplexity_stderr);
  return result;
}

PerplexityResult compute_perplexity_llama_cpp(Engine& engine, const std::vector<int32_t>& tokens, int window,
                                              int32_t bos, int max_windows, int chunk_len,
                                              const std::function<void(int, int)>& progress) {
  check(window >= 4 && window <= engine.context(), "perplexity window ", window, " must be in 4..",
        engine.context());
  int total = int(tokens.size()) / window;
  check(total > 0, "the text has ", tokens.size(), " tokens, fewer than one window of ", window,
        " (lower -c)");
  if (max_windows > 0) total = std::min(total, max_windows);
  PerplexityResult result;
  std::vector<double> nll;
  const int first = window / 2;
  for (int w = 0; w < total; ++w) {
    const size_t begin = size_t(w) * size_t(window);
    std::vector<int32_t> ids(tokens.begin() + long(begin), tokens.begin() + long(begin + size_t(window)));
    if (bos >= 0) ids[0] = bos;
    score_window(engine, ids, chunk_len, first + 1, int(begin), result, nll);
    ++result.windows;
    if (progress) progress(w + 1, total);
  }
  summarize_nll(nll, &result.mean_nll, &result.perplexity, &result.perplexity_stderr);
  return result;
}

}  // namespace llmnpu
