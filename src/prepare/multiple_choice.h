#pragma once
// Multiple-choice benchmarks (HellaSwag, OpenBookQA) scored as llama.cpp scores them: each ending's
// summed log-likelihood after the context, the highest wins.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/engine.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {

struct ChoiceTask {
  std::string context;
  std::vector<std::string> endings;
  int label = 0;
};

// HellaSwag as llama.cpp's hellaswag_val_full.txt: 6 lines per task (context, label 0-3, 4 endings).
// name: for messages. Throws Error on a malformed file.
std::vector<ChoiceTask> parse_hellaswag(const std::string& text, const std::string& name);
// OpenBookQA TSV: ID, Question Stem, Choices "(A) .. (B) .. (C) .. (D) ..", Complete Question, Answer Key.
std::vector<ChoiceTask> parse_openbookqa(const std::string& text, const std::string& name);

struct ChoiceScore {
  std::vector<double> logprob_sums;  // per ending
  int chosen = 0;
};

// Scores one task on the engine (its KV cache is reset for every ending). index: for messages.
ChoiceScore score_choice_task(Engine& engine, const Tokenizer& tokenizer, const ChoiceTask& task,
                              size_t index);

}  // namespace llmnpu
