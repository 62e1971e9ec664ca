#pragma once
// Perplexity over a token stream cut into windows of the context size. In each window every token
// after the first is scored given the tokens before it in that window (a BOS, when the model uses one,
// starts every window and lets the first text token be scored too).
#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/engine.h"

namespace llmnpu {

struct ScoredToken {
  int32_t id;
  int position;  // in the whole token stream
  double logprob;
};

struct PerplexityResult {
  std::vector<ScoredToken> tokens;
  double mean_nll = 0;
  double perplexity = 0;
  double perplexity_stderr = 0;  // delta method: ppl * stddev(nll) / sqrt(n)
  int windows = 0;
};

// log softmax(logits)[id], computed stably in double.
double token_logprob(const float* logits, int vocab, int32_t id);

// bos < 0: no BOS. max_windows <= 0: all. progress(done_windows, total_windows) is called after each.
PerplexityResult compute_perplexity(Engine& engine, const std::vector<int32_t>& text_tokens, int window,
                                    int32_t bos, int max_windows, int chunk_len,
                                    const std::function<void(int, int)>& progress = nullptr);

// llama-perplexity's convention, so results compare with llama.cpp's: `tokens` is the whole text
// tokenized with BOS (when the model adds one) and one trailing newline stripped from the text first; it is
// cut into floor(n / window) windows, each window's first token is replaced by BOS (when bos >= 0), and the
// second half of each window is scored (logits at positions window/2 .. window-2).
PerplexityResult compute_perplexity_llama_cpp(Engine& engine, const std::vector<int32_t>& tokens, int window,
                                              int32_t bos, int max_windows, int chunk_len,
                                              const std::function<void(int, int)>& progress = nullptr);

// Mean, and the standard error of the perplexity, of a list of negative log-likelihoods.
void summarize_nll(const std::vector<double>& nll, double* mean, double* ppl, double* ppl_stderr);

}  // namespace llmnpu
