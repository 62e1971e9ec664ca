// Hugging Face tokenizer.json (+ tokenizer_config.json) -> Vocab. Supports the BPE model with either a
// byte-level pipeline (GPT-2, Llama 3, Qwen2) or a SentencePiece-style one (Llama 2: Prepend/Replace '▁'
// normalizers or Metaspace, byte fallback).
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/load.h"

namespace llmnpu {
namespace {

using nlohmann::json;

const char* kSpaceMark = "\xE2\x96\x81";

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path, ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON (", e.what(), ")");
  }
}

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// A token in tokenizer_config.json: a string or {"content": ...}.
std::string config_token(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content")) return (*it)["content"].get<std::string>();
  return "";
}

struct Pipeline {
  bool spm = false;
  bool prepend_space = false;
  bool nfc = false;
  std::vector<std::string> regexes;
};

void read_normalizer(const json& n, Pipeline& p, const std::string& path) {
  if (n.is_null()) return;
  std::string type = n.value("type", "");
  if (type == "Sequence") {
    for (const auto& sub : n["normalizers"]) read_normalizer(sub, p, path);
  } else if (type == "NFC") {
    p.nfc = true;
  } else if (type == "Prepend") {
    p.spm = true;
    p.prepend_space = n.value("prepend", "") == kSpaceMark;
  } else if (type == "Replace") {
    p.spm = true;  // ' ' -> '▁'
  } else {
    fail(path, ": unsupported normalizer '", type, "'");
  }
}

void read_pre_tokenizer(const json& t, Pipeline& p, const std::string& path) {
  if (t.is_null()) return;
  std::string type = t.value("type", "");
  if (type == "Sequence") {
    for (const auto& sub : t["pretokenizers"]) read_pre_tokenizer(sub, p, path);
  } else if (type == "Split") {
    check(t.value("behavior", "") == "Isolated" && !t.value("invert", false), path,
          ": only Split pre-tokenizers with behavior Isolated are supported");
    const json& pattern = t["pattern"];
    if (pattern.contains("Regex"))
      p.regexes.push_back(pattern["Regex"].get<std::string>());
    else
      p.regexes.push_back(regex_escape(pattern["String"].get<std::string>()));
  } else if (type == "ByteLevel") {
    if (t.value("use_regex", true)) {
      auto gpt2 = pre_tokenizer_regexes("gpt-2");
      p.regexes.insert(p.regexes.end(), gpt2.begin(), gpt2.end());
    }
  } else if (type == "Digits") {
    p.regexes.push_back(t.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
  } else if (type == "Metaspace") {
    p.spm = true;
    p.prepend_space =
        t.value("prepend_scheme", std::string("always")) != "never" && t.value("add_prefix_space", true);
  } else {
    fail(path, ": unsupported pre_tokenizer '", type, "'");
  }
}

}  // namespace

Vocab vocab_from_hf_json(const std::string& path) {
  json root = read_json(path);
  check(root.is_object() && root.contains("model"), path, ": not a tokenizer.json (no \"model\")");
  const json& model = root["model"];
  check(model.value("type", "BPE") == "BPE", path, ": unsupported tokenizer model '", model.value("type", ""),
        "' (only BPE)");
  try {
    Pipeline pipeline;
    read_normalizer(root.value("normalizer", json()), pipeline, path);
    read_pre_tokenizer(root.value("pre_tokenizer", json()), pipeline, path);
    if (model.value("byte_fallback", false)) pipeline.spm = true;

    Vocab v;
    v.kind = pipeline.spm ? VocabKind::SentencePieceBpe : VocabKind::ByteLevelBpe;
    v.add_space_prefix = pipeline.spm && pipeline.prepend_space;
    v.normalize_nfc = pipeline.nfc;
    v.ignore_merges = model.value("ignore_merges", false);
    if (!pipeline.spm) {
      check(!pipeline.regexes.empty(), path, ": byte-level tokenizer without pre-tokenizer regexes");
      v.pre = pre_name_for_regexes(pipeline.regexes);
      if (v.pre.empty()) {
        v.pre = "custom";
        v.pre_regexes = pipeline.regexes;
      }
    }

    // Tokens: the model vocab plus added tokens, indexed by id; gaps become unused placeholders.
    std::map<int64_t, std::string> by_id;
    for (const auto& [piece, id] : model["vocab"].items()) by_id[id.get<int64_t>()] = piece;
    std::map<int64_t, bool> added;  // id -> special
    std::vector<int64_t> rstrip;    // added tokens that swallow the whitespace after them
    for (const auto& a : root.value("added_tokens", json::array())) {
      int64_t id = a["id"].get<int64_t>();
      by_id[id] = a["content"].get<std::string>();
      added[id] = a.value("special", false);
      if (a.value("rstrip", false)) rstrip.push_back(id);
    }
    check(!by_id.empty() && by_id.begin()->first >= 0 && by_id.rbegin()->first < (int64_t(1) << 24), path,
          ": vocab ids out of range");
    size_t n = size_t(by_id.rbegin()->first) + 1;
    v.tokens.resize(n);
    v.types.assign(n, TokenType::Unused);
    for (size_t i = 0; i < n; ++i) v.tokens[i] = str("[PAD", i, "]");
    for (auto& [id, piece] : by_id) {
      v.tokens[id] = piece;
      v.types[id] = TokenType::Normal;
      if (pipeline.spm && piece.size() == 6 && piece.compare(0, 3, "<0x") == 0 && piece[5] == '>')
        v.types[id] = TokenType::Byte;
    }
    for (auto [id, special] : added) v.types[id] = special ? TokenType::Control : TokenType::UserDefined;
    if (!rstrip.empty()) {
      v.rstrip.assign(n, 0);
      for (int64_t id : rstrip) v.rstrip[size_t(id)] = 1;
    }

    std::map<std::string, int32_t> ids;
    for (size_t i = 0; i < n; ++i) ids.emplace(v.tokens[i], int32_t(i));
    auto id_of = [&](const std::string& piece) {
      auto it = ids.find(piece);
      return piece.empty() || it == ids.end() ? -1 : it->second;
    };
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      v.unk_id = id_of(model["unk_token"].get<std::string>());
      if (v.unk_id >= 0) v.types[v.unk_id] = TokenType::Unknown;
    }

    for (const auto& m : model.value("merges", json::array())) {
      if (m.is_string())
        v.merges.push_back(m.get<std::string>());
      else
        v.merges.push_back(m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
    }
    if (pipeline.spm) {
      // SentencePiece scores are not in tokenizer.json: rank the merge results instead (the merges are
      // ordered by score), so a GGUF written from this vocab merges the same way.
      v.scores.assign(n, 0.0f);
      std::vector<bool> seen(n, false);
      for (size_t r = 0; r < v.merges.size(); ++r) {
        const std::string& m = v.merges[r];
        size_t space = m.find(' ', 1);
        if (space == std::string::npos) continue;
        int32_t merged = id_of(m.substr(0, space) + m.substr(space + 1));
        if (merged >= 0 && !seen[merged]) {
          seen[merged] = true;
          v.scores[merged] = -float(r + 1);
        }
      }
    }

    // Special ids and flags: tokenizer_config.json when present, else the post-processor template.
    auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
    json config = std::filesystem::exists(config_path) ? read_json(config_path.string()) : json::object();
    v.bos_id = id_of(config_token(config, "bos_token"));
    v.eos_id = id_of(config_token(config, "eos_token"));
    v.pad_id = id_of(config_token(config, "pad_token"));
    bool template_bos = false;
    const json post = root.value("post_processor", json());
    if (post.is_object() && post.value("type", "") == "TemplateProcessing" && !post["single"].empty() &&
        post["single"][0].contains("SpecialToken")) {
      template_bos = true;
      if (v.bos_id < 0) v.bos_id = id_of(post["single"][0]["SpecialToken"]["id"].get<std::string>());
    }
    v.add_bos = config.contains("add_bos_token") && config["add_bos_token"].is_boolean()
                    ? config["add_bos_token"].get<bool>()
                    : template_bos;
    v.add_eos = config.value("add_eos_token", false);
    if (v.add_bos && v.bos_id < 0) v.add_bos = false;
    for (const char* eot : {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>", "<|EOT|>"}) {
      int32_t id = id_of(eot);
      if (id >= 0 && v.types[id] != TokenType::Normal) {
        v.eot_id = id;
        break;
      }
    }
    v.validate();
    return v;
  } catch (const json::exception& e) {
    fail(path, ": malformed tokenizer.json (", e.what(), ")");
  }
}

}  // namespace llmnpu
