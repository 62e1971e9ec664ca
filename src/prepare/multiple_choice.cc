#include "prepare/multiple_choice.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "runtime/perplexity.h"

namespace llmnpu {

// HellaSwag as llama.cpp's hellaswag_val_full.txt: 6 lines per task (context, label 0-3, 4 endings).
std::vector<ChoiceTask> parse_hellaswag(const std::string& text, const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  check(!lines.empty() && lines.size() % 6 == 0, "'", path,
        "': expected 6 lines per task (context, label, 4 endings), got ", lines.size(), " lines");
  std::vector<ChoiceTask> tasks;
  for (size_t i = 0; i < lines.size(); i += 6) {
    ChoiceTask t;
    t.context = lines[i];
    const std::string& label = lines[i + 1];
    check(label.size() == 1 && label[0] >= '0' && label[0] <= '3', "'", path, "' line ", i + 2, ": label '",
          label, "' is not 0-3");
    t.label = label[0] - '0';
    for (int e = 0; e < 4; ++e) t.endings.push_back(lines[i + 2 + size_t(e)]);
    tasks.push_back(std::move(t));
  }
  return tasks;
}

// OpenBookQA TSV: ID, Question Stem, Choices "(A) .. (B) .. (C) .. (D) ..", Complete Question, Answer Key.
std::vector<ChoiceTask> parse_openbookqa(const std::string& text, const std::string& path) {
  std::vector<ChoiceTask> tasks;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("ID\t", 0) == 0)) continue;
    std::vector<std::string> cols;
    std::istringstream row(line);
    for (std::string col; std::getline(row, col, '\t');) cols.push_back(col);
    check(cols.size() >= 5, "'", path, "' line ", number, ": expected 5 tab-separated columns, got ",
          cols.size());
    ChoiceTask t;
    t.context = cols[1];
    const std::string& choices = cols[2];
    const char* marks[] = {"(A) ", "(B) ", "(C) ", "(D) "};
    for (const char* mark : marks)
      check(choices.find(mark) != std::string::npos, "'", path, "' line ", number, ": choice ",
            std::string(mark, 3), " is missing");
    for (int e = 0; e < 4; ++e) {
      const size_t at = choices.find(marks[e]);
      check(at != std::string::npos, "'", path, "' line ", number, ": choice ", marks[e], "is missing");
      const size_t begin = at + 4;
      const size_t end = e < 3 ? choices.find(marks[e + 1], begin) : std::string::npos;
      check(e == 3 || end != std::string::npos, "'", path, "' line ", number, ": choices out of order");
      std::string s = choices.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      t.endings.push_back(s);
    }
    const std::string& key = cols[4];
    check(key.size() == 1 && key[0] >= 'A' && key[0] <= 'D', "'", path, "' line ", number, ": answer key '",
          key, "' is not A-D");
    t.label = key[0] - 'A';
    tasks.push_back(std::move(t));
  }
  check(!tasks.empty(), "'", path, "' holds no questions");
  return tasks;
}

ChoiceScore score_choice_task(Engine& engine, const Tokenizer& tokenizer, const ChoiceTask& t, size_t index) {
  const int32_t bos = tokenizer.adds_bos() ? tokenizer.bos_id() : -1;
  const int vocab = engine.config().vocab_size;
  std::vector<int32_t> ctx = tokenizer.encode(t.context, false);
  if (bos >= 0) ctx.insert(ctx.begin(), bos);
  std::vector<double> sums;
  for (const std::string& ending : t.endings) {
    std::vector<int32_t> full = tokenizer.encode(t.context + " " + ending, false);
    if (bos >= 0) full.insert(full.begin(), bos);
    // The ending's tokens are those after the longest prefix shared with the context alone.
    size_t common = 0;
    while (common < ctx.size() && common < full.size() && ctx[common] == full[common]) ++common;
    common = std::max<size_t>(common, 1);
    check(full.size() > common, "task ", index, ": an ending adds no tokens");
    check(int(full.size()) <= engine.context(), "task ", index, ": ", full.size(),
          " tokens do not fit in the context of ", engine.context(), " (raise -c)");
    double sum = 0;
    engine.reset();
    engine.prefill(full, 0, [&](int pos, const float* logits) {
      if (size_t(pos) + 1 >= common && size_t(pos) + 1 < full.size())
        sum += token_logprob(logits, vocab, full[size_t(pos) + 1]);
    });
    sums.push_back(sum);
  }
  ChoiceScore score;
  score.logprob_sums = sums;
  score.chosen = int(std::max_element(sums.begin(), sums.end()) - sums.begin());
  return score;
}

}  // namespace llmnpu
