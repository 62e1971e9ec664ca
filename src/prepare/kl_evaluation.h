#pragma once
// A model's accuracy against its float reference over a text: per-token KL(float || model), top-1
// agreement and both perplexities, with the ablations that explain a prepared model's numbers
// (W8A8 without shadow; shadow on every linear with all rows resident; per-block-32 dynamic int8).
#include <functional>
#include <string>
#include <vector>

#include "prepare/accuracy.h"

namespace llmnpu {

struct KlEvaluationOptions {
  std::string reference_path;  // the float model
  std::string model_path;      // a prepared model (or any model of the same shape)
  std::string tokenizer_path;  // optional
  std::string text;
  int context = 512;      // window size
  int max_tokens = 4096;  // text tokens scored at most
  int threads = 0;
  bool ablations = false;
};

struct KlEvaluation {
  bool is_prepared = false;
  std::vector<AccuracyResult> results;  // the model first, then the ablations
  std::vector<size_t> resident_bytes;   // resident shadow bytes of each row
  size_t int8_weight_bytes = 0;
  double seconds = 0;
};

// progress(done, total) per window. Throws Error for unusable models or too little text.
KlEvaluation evaluate_against_float(const KlEvaluationOptions& options,
                                    const std::function<void(int, int)>& progress = nullptr);

}  // namespace llmnpu
