// Vocab -> Hugging Face tokenizer.json + tokenizer_config.json, in the shapes vocab_from_hf_json reads
// (and the Hugging Face tokenizers library runs): a byte-level BPE with its split regexes and a
// ByteLevel step, or a SentencePiece-style BPE with '▁' normalizers, byte fallback and merges.
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/load.h"

namespace llmnpu {
namespace {

using ordered_json = nlohmann::ordered_json;

const char* kSpaceMark = "\xE2\x96\x81";

bool is_added(TokenType t) { return t == TokenType::Control || t == TokenType::UserDefined; }

// SentencePiece keeps scores, tokenizer.json keeps merges: every split of a piece into two pieces of the
// vocab is a merge, ranked by the merged piece's score (best first), as Hugging Face's converter does.
std::vector<std::string> merges_from_scores(const Vocab& v) {
  std::map<std::string, int32_t> ids;
  for (size_t i = 0; i < v.size(); ++i)
    if (!is_added(v.types[i]) && v.types[i] != TokenType::Byte) ids.emplace(v.tokens[i], int32_t(i));
  struct Merge {
    float score;
    int32_t merged, left, right;
    std::string text;
  };
  std::vector<Merge> found;
  for (const auto& [piece, id] : ids) {
    for (size_t cut = 1; cut < piece.size(); ++cut) {
      if ((uint8_t(piece[cut]) & 0xC0) == 0x80) continue;  // inside a UTF-8 sequence
      auto left = ids.find(piece.substr(0, cut)), right = ids.find(piece.substr(cut));
      if (left == ids.end() || right == ids.end()) continue;
      found.push_back({v.scores.empty() ? 0.0f : v.scores[size_t(id)], id, left->second, right->second,
                       left->first + " " + right->first});
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.merged != b.merged) return a.merged < b.merged;
    return a.left < b.left;
  });
  std::vector<std::string> merges;
  for (const Merge& m : found) merges.push_back(m.text);
  return merges;
}

void write_json(const ordered_json& j, const std::string& path) {
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << j.dump(1) << "\n";
  out.close();
  check(out.good(), "writing '", path, "' failed");
  std::error_code ec;
  std::filesystem::rename(path + ".tmp", path, ec);
  check(!ec, "cannot rename '", path, ".tmp': ", ec.message());
}

}  // namespace

void write_hf_tokenizer(const Vocab& v, const std::string& folder) {
  v.validate();
  const bool spm = v.kind == VocabKind::SentencePieceBpe;
  ordered_json root;
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;

  ordered_json added = ordered_json::array();
  for (size_t i = 0; i < v.size(); ++i)
    if (is_added(v.types[i]))
      added.push_back({{"id", i},
                       {"content", v.tokens[i]},
                       {"single_word", false},
                       {"lstrip", false},
                       {"rstrip", !v.rstrip.empty() && v.rstrip[i] != 0},
                       {"normalized", false},
                       {"special", v.types[i] == TokenType::Control}});
  root["added_tokens"] = added;

  if (spm) {
    ordered_json steps = ordered_json::array();
    if (v.add_space_prefix) steps.push_back({{"type", "Prepend"}, {"prepend", kSpaceMark}});
    steps.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}});
    root["normalizer"] = {{"type", "Sequence"}, {"normalizers", steps}};
    root["pre_tokenizer"] = nullptr;
  } else {
    root["normalizer"] = v.normalize_nfc ? ordered_json{{"type", "NFC"}} : ordered_json(nullptr);
    ordered_json steps = ordered_json::array();
    for (const std::string& regex : effective_pre_regexes(v))
      steps.push_back(
          {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}});
    steps.push_back(
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}});
    root["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", steps}};
  }
  root["post_processor"] = nullptr;
  root["decoder"] = spm ? ordered_json{{"type", "ByteFallback"}} : ordered_json{{"type", "ByteLevel"}};

  ordered_json vocab = ordered_json::object();
  for (size_t i = 0; i < v.size(); ++i)
    if (!is_added(v.types[i])) vocab[v.tokens[i]] = i;
  ordered_json model = {{"type", "BPE"},
                        {"dropout", nullptr},
                        {"unk_token", v.unk_id >= 0 ? ordered_json(v.tokens[size_t(v.unk_id)]) : nullptr},
                        {"continuing_subword_prefix", nullptr},
                        {"end_of_word_suffix", nullptr},
                        {"fuse_unk", spm},
                        {"byte_fallback", spm},
                        {"ignore_merges", v.ignore_merges}};
  model["vocab"] = vocab;
  model["merges"] = spm && v.merges.empty() ? merges_from_scores(v) : v.merges;
  root["model"] = model;

  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  check(!ec, "cannot create folder '", folder, "': ", ec.message());
  write_json(root, folder + "/tokenizer.json");

  ordered_json config;
  auto token = [&](int32_t id) {
    return id >= 0 ? ordered_json(v.tokens[size_t(id)]) : ordered_json(nullptr);
  };
  config["bos_token"] = token(v.bos_id);
  config["eos_token"] = token(v.eos_id);
  config["pad_token"] = token(v.pad_id);
  config["unk_token"] = token(v.unk_id);
  config["add_bos_token"] = v.add_bos;
  config["add_eos_token"] = v.add_eos;
  config["tokenizer_class"] = spm ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast";
  if (!v.chat_template.empty()) config["chat_template"] = v.chat_template;
  write_json(config, folder + "/tokenizer_config.json");
}

}  // namespace llmnpu
