#pragma once
// Accuracy of a quantized model against its float reference, shared by `prepare` (choosing how much
// shadow-path pruning the budget allows) and `eval`: per-token KL(float || quantized) of the next-token
// distributions, top-1 agreement and both perplexities, over windows of a token stream.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/engine.h"

namespace llmnpu {

struct AccuracyResult {
  std::string name;
  int tokens = 0;  // scored positions
  double mean_kl = 0, p99_kl = 0, max_kl = 0;
  double top1_agreement = 0;
  double ppl_ref = 0, ppl = 0;
};

// A model to compare: its engine and a hook run before it is used (to flip ablation switches).
struct AccuracyVariant {
  std::string name;
  Engine* engine = nullptr;
  std::function<void()> activate;
};

// How the comparison walks a window (the results are the same either way): the reference and every
// variant in lockstep, 128 positions at a time (each variant then needs a KV cache of its own), or each
// whole window first through the reference, then through each variant (the reference's
// log-probabilities are then held for a window). Smaller: whichever of the two holds less memory.
enum class ComparisonOrder { Smaller, Lockstep, WholeWindows };

// Cuts `tokens` into windows of `window` positions (a BOS first when bos >= 0), runs the reference and
// every variant over each window, and scores every position whose next token is in the window.
// progress(done, total) after each window.
std::vector<AccuracyResult> compare_to_reference(Engine& reference,
                                                 const std::vector<AccuracyVariant>& variants,
                                                 const std::vector<int32_t>& tokens, int window, int32_t bos,
                                                 const std::function<void(int, int)>& progress = nullptr,
                                                 ComparisonOrder order = ComparisonOrder::Smaller);

// Splits text tokens into windows of at most `window` positions, BOS first when bos >= 0.
std::vector<std::vector<int32_t>> make_windows(const std::vector<int32_t>& tokens, int window, int32_t bos);

}  // namespace llmnpu
