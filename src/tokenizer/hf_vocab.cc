// Hugging Face tokenizer.json (+ tokenizer_config.json) -> Vocab. Supports the BPE model with either a
// byte-level pipeline (GPT-2, Llama 3, Qwen2) or a SentencePiece-style one (Llama 2: Prepend/Replace '▁'
// normalizers or Metaspace, byte fallback).
#include <filesystem>
#include <map>
#include <optional>

#include "core/error.h"
#include "core/utf8.h"
#include "format/json_document.h"
#include "tokenizer/load.h"

namespace llmnpu {
namespace {

const char* kSpaceMark = "\xE2\x96\x81";

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// A token in tokenizer_config.json: a string or {"content": ...}.
std::string config_token(const JsonField& config, const char* key) {
  std::optional<JsonField> token = config.find(key);
  if (!token) return "";
  if (token->is_string()) return token->string();
  if (token->is_object()) return token->string_or("content", "");
  token->fail_here("must be a string or an object with \"content\"");
}

struct Pipeline {
  bool spm = false;
  bool prepend_space = false;
  bool nfc = false;
  std::vector<std::string> regexes;
};

void read_normalizer(const JsonField& n, Pipeline& p) {
  const std::string type = n.string_or("type", "");
  if (type == "Sequence") {
    for (const JsonField& sub : n.at("normalizers").elements())
      if (!sub.is_null()) read_normalizer(sub, p);
  } else if (type == "NFC") {
    p.nfc = true;
  } else if (type == "Prepend") {
    p.spm = true;
    p.prepend_space = n.string_or("prepend", "") == kSpaceMark;
  } else if (type == "Replace") {
    p.spm = true;  // ' ' -> '▁'
  } else {
    n.fail_here(str("has an unsupported type '", utf8::lossy(type.substr(0, 64)), "'"));
  }
}

void read_pre_tokenizer(const JsonField& t, Pipeline& p) {
  const std::string type = t.string_or("type", "");
  if (type == "Sequence") {
    for (const JsonField& sub : t.at("pretokenizers").elements())
      if (!sub.is_null()) read_pre_tokenizer(sub, p);
  } else if (type == "Split") {
    if (t.string_or("behavior", "") != "Isolated" || t.boolean_or("invert", false))
      t.fail_here("is a Split other than behavior Isolated, which is the only one supported");
    const JsonField pattern = t.at("pattern");
    if (std::optional<JsonField> regex = pattern.find("Regex"))
      p.regexes.push_back(regex->string());
    else
      p.regexes.push_back(regex_escape(pattern.at("String").string()));
  } else if (type == "ByteLevel") {
    if (t.boolean_or("use_regex", true)) {
      auto gpt2 = pre_tokenizer_regexes("gpt-2");
      p.regexes.insert(p.regexes.end(), gpt2.begin(), gpt2.end());
    }
  } else if (type == "Digits") {
    p.regexes.push_back(t.boolean_or("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
  } else if (type == "Metaspace") {
    p.spm = true;
    p.prepend_space =
        t.string_or("prepend_scheme", "always") != "never" && t.boolean_or("add_prefix_space", true);
  } else {
    t.fail_here(str("has an unsupported type '", utf8::lossy(type.substr(0, 64)), "'"));
  }
}

}  // namespace

Vocab vocab_from_hf_json(const std::string& path) {
  const auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  const Json config =
      std::filesystem::exists(config_path) ? read_json_document(config_path.string()) : Json::object();
  return vocab_from_hf_documents(read_json_document(path), path, config, config_path.string());
}

Vocab vocab_from_hf_documents(const Json& doc, const std::string& path, const Json& config_doc,
                              const std::string& config_source) {
  const JsonField root(doc, path);
  if (!root.is_object() || !root.has("model")) fail(path, ": not a tokenizer.json (no \"model\")");
  const JsonField model = root.at("model");
  const std::string model_type = model.string_or("type", "BPE");
  check(model_type == "BPE", path, ": unsupported tokenizer model '", utf8::lossy(model_type.substr(0, 64)),
        "' (only BPE)");
  Pipeline pipeline;
  if (std::optional<JsonField> n = root.find("normalizer")) read_normalizer(*n, pipeline);
  if (std::optional<JsonField> t = root.find("pre_tokenizer")) read_pre_tokenizer(*t, pipeline);
  if (model.boolean_or("byte_fallback", false)) pipeline.spm = true;

  Vocab v;
  v.kind = pipeline.spm ? VocabKind::SentencePieceBpe : VocabKind::ByteLevelBpe;
  v.add_space_prefix = pipeline.spm && pipeline.prepend_space;
  v.normalize_nfc = pipeline.nfc;
  v.ignore_merges = model.boolean_or("ignore_merges", false);
  if (!pipeline.spm) {
    check(!pipeline.regexes.empty(), path, ": byte-level tokenizer without pre-tokenizer regexes");
    v.pre = pre_name_for_regexes(pipeline.regexes);
    if (v.pre.empty()) {
      v.pre = "custom";
      v.pre_regexes = pipeline.regexes;
    }
  }

  // Tokens: the model vocab plus added tokens, indexed by id; gaps become unused placeholders.
  constexpr int64_t kMaxId = (int64_t(1) << 22) - 1;
  std::map<int64_t, std::string> by_id;
  for (const auto& [piece, id] : model.at("vocab").members()) by_id[id.integer(0, kMaxId)] = piece;
  std::map<int64_t, bool> added;  // id -> special
  std::vector<int64_t> rstrip;    // added tokens that swallow the whitespace after them
  if (std::optional<JsonField> list = root.find("added_tokens")) {
    for (const JsonField& a : list->elements()) {
      const int64_t id = a.at("id").integer(0, kMaxId);
      by_id[id] = a.at("content").string();
      added[id] = a.boolean_or("special", false);
      if (a.boolean_or("rstrip", false)) rstrip.push_back(id);
    }
  }
  check(!by_id.empty(), path, ": model.vocab is empty");
  size_t n = size_t(by_id.rbegin()->first) + 1;
  // Gaps become placeholder tokens; a few ids far apart would otherwise make millions of them.
  check(n - by_id.size() <= std::max<size_t>(4096, by_id.size()), path, ": token ids up to ", n - 1,
        " leave more gaps than there are tokens (", by_id.size(), ")");
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
  if (std::optional<JsonField> unk = model.find("unk_token"); unk && unk->is_string()) {
    v.unk_id = id_of(unk->string());
    if (v.unk_id >= 0) v.types[v.unk_id] = TokenType::Unknown;
  }

  if (std::optional<JsonField> merges = model.find("merges")) {
    for (const JsonField& m : merges->elements()) {
      if (m.is_string()) {
        v.merges.push_back(m.string());
      } else {
        const std::vector<JsonField> pair = m.elements();
        if (pair.size() != 2) m.fail_here("must be a string or a pair of strings");
        v.merges.push_back(pair[0].string() + " " + pair[1].string());
      }
    }
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
  const JsonField config(config_doc, config_source);
  if (!config.is_object()) config.fail_here("must be an object");
  v.bos_id = id_of(config_token(config, "bos_token"));
  v.eos_id = id_of(config_token(config, "eos_token"));
  v.pad_id = id_of(config_token(config, "pad_token"));
  bool template_bos = false;
  if (std::optional<JsonField> post = root.find("post_processor");
      post && post->is_object() && post->string_or("type", "") == "TemplateProcessing") {
    std::optional<JsonField> single = post->find("single");
    if (single && single->is_array() && single->size() > 0) {
      const JsonField first = single->elements()[0];
      if (first.is_object() && first.has("SpecialToken")) {
        template_bos = true;
        if (v.bos_id < 0) v.bos_id = id_of(first.at("SpecialToken").at("id").string());
      }
    }
  }
  // chat_template: a string, or (newer transformers) a list of {name, template}: the "default" one, else
  // the first.
  if (std::optional<JsonField> chat = config.find("chat_template")) {
    if (chat->is_string()) {
      v.chat_template = chat->string();
    } else {
      for (const JsonField& entry : chat->elements())
        if (v.chat_template.empty() || entry.string_or("name", "") == "default")
          v.chat_template = entry.at("template").string();
    }
  }
  std::optional<JsonField> add_bos = config.find("add_bos_token");
  v.add_bos = add_bos ? add_bos->boolean() : template_bos;
  v.add_eos = config.boolean_or("add_eos_token", false);
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
}

}  // namespace llmnpu
