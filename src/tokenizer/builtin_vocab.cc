// A small byte-level BPE vocab learned at run time from a fixed English text, so synthetic test models
// get a real (if tiny) tokenizer without any file. Deterministic: the most frequent pair wins, ties go
// to the smallest (left id, right id).
#include <map>

#include "tokenizer/byte_unicode.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

const char* kTrainingText =
    "Once upon a time there was a little girl who lived in a small house near the forest. Every morning she "
    "walked to the river with her dog, and they watched the water run over the stones. One day the girl saw "
    "a "
    "bird that could not fly. She took it home, gave it water and bread, and kept it warm. After three days "
    "the "
    "bird sang and flew out of the window, and the girl was happy because she had helped a friend.\n"
    "The engine reads a model file, splits the prompt into chunks and runs each chunk on the accelerator. "
    "The tokenizer turns text into numbers, and the numbers into text again. A good test checks that the "
    "result is exactly the same as the reference, for every input and for every model that we support.\n"
    "In the morning the children played in the garden. They were running and laughing, and their mother "
    "called them for breakfast. There was bread, milk, eggs and fresh fruit on the table. The weather was "
    "warm and the sun was shining, so after breakfast they went back outside to play with the ball.\n"
    "This is the story of a small town where people worked together, shared what they had, and helped each "
    "other when times were hard. The town was not rich, but it was a good place to live, and everyone there "
    "knew the names of their neighbours and the stories of their families.\n";

constexpr size_t kMergedTokens = 253;

}  // namespace

Vocab builtin_byte_vocab() {
  Vocab v;
  v.kind = VocabKind::ByteLevelBpe;
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) v.tokens.push_back(byte_unicode::byte_to_utf8(uint8_t(b)));

  // Word frequencies over GPT-2 pre-tokens, as byte-token sequences.
  PreTokenizer pre(pre_tokenizer_regexes("gpt-2"));
  std::map<std::string, int> counts;
  for (std::string_view word : pre.split(kTrainingText)) ++counts[std::string(word)];
  std::vector<std::pair<std::vector<int32_t>, int>> words;
  for (const auto& [word, count] : counts) {
    std::vector<int32_t> ids;
    for (char c : word) ids.push_back(uint8_t(c));
    words.emplace_back(std::move(ids), count);
  }

  std::map<std::string, int32_t> known;
  for (size_t i = 0; i < v.tokens.size(); ++i) known[v.tokens[i]] = int32_t(i);
  while (v.tokens.size() < 256 + kMergedTokens) {
    std::map<std::pair<int32_t, int32_t>, int> pairs;
    for (const auto& [ids, count] : words)
      for (size_t i = 0; i + 1 < ids.size(); ++i) pairs[{ids[i], ids[i + 1]}] += count;
    if (pairs.empty()) break;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
      if (it->second > best->second) best = it;
    auto [left, right] = best->first;
    std::string merged = v.tokens[left] + v.tokens[right];
    auto found = known.find(merged);
    int32_t id = found != known.end() ? found->second : int32_t(v.tokens.size());
    if (found == known.end()) {
      v.tokens.push_back(merged);
      known[merged] = id;
    }
    v.merges.push_back(v.tokens[left] + " " + v.tokens[right]);
    for (auto& [ids, count] : words) {
      std::vector<int32_t> next;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
          next.push_back(id);
          ++i;
        } else {
          next.push_back(ids[i]);
        }
      }
      ids.swap(next);
    }
  }
  v.types.assign(v.tokens.size(), TokenType::Normal);
  for (const char* special : {"<|endoftext|>", "<s>", "</s>"}) {
    v.tokens.push_back(special);
    v.types.push_back(TokenType::Control);
  }
  const int32_t n = int32_t(v.tokens.size());
  v.eot_id = n - 3;
  v.bos_id = n - 2;
  v.eos_id = n - 1;
  v.add_bos = true;
  v.validate();
  return v;
}

}  // namespace llmnpu
