#include "tokenizer/vocab.h"

#include "core/error.h"

namespace llmnpu {
namespace {

const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

bool is_one_of(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

}  // namespace

std::vector<std::string> pre_tokenizer_regexes(const std::string& pre) {
  if (is_one_of(pre, {"default", "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "gpt-neox", ""}))
    return {kGpt2Regex};
  if (is_one_of(pre, {"llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe"})) return {kLlama3Regex};
  if (is_one_of(pre, {"qwen2", "qwen3", "deepseek-r1-qwen"})) return {kQwen2Regex};
  if (is_one_of(pre, {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}))
    return {R"(\p{N})", kGpt2Regex};
  if (pre == "deepseek-coder")
    return {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+",
            R"(\p{N})"};
  if (pre == "falcon")
    return {R"([\p{P}\$\+<=>\^~\|`]+)",
            R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))", "[0-9][0-9][0-9]"};
  return {};
}

std::vector<std::string> effective_pre_regexes(const Vocab& vocab) {
  if (!vocab.pre_regexes.empty()) return vocab.pre_regexes;
  auto regexes = pre_tokenizer_regexes(vocab.pre);
  check(!regexes.empty() || vocab.kind != VocabKind::ByteLevelBpe, "unknown pre-tokenizer '", vocab.pre, "'");
  return regexes;
}

std::string pre_name_for_regexes(const std::vector<std::string>& regexes) {
  for (const char* name : {"gpt-2", "llama-bpe", "qwen2", "starcoder", "deepseek-coder", "falcon"})
    if (pre_tokenizer_regexes(name) == regexes) return name;
  return "";
}

void Vocab::validate() const {
  check(!tokens.empty(), "tokenizer vocab is empty");
  check(types.size() == tokens.size(), "tokenizer vocab has ", tokens.size(), " tokens but ", types.size(),
        " token types");
  check(scores.empty() || scores.size() == tokens.size(), "tokenizer vocab has ", tokens.size(),
        " tokens but ", scores.size(), " scores");
  for (auto [name, id] :
       {std::pair{"bos", bos_id}, {"eos", eos_id}, {"unk", unk_id}, {"pad", pad_id}, {"eot", eot_id}})
    check(id >= -1 && id < int64_t(tokens.size()), "tokenizer ", name, " id ", id,
          " is outside the vocab of ", tokens.size());
}

void append_vocab_metadata(const Vocab& vocab, std::vector<std::pair<std::string, GgufValue>>& out) {
  vocab.validate();
  auto put = [&](const char* key, GgufValue value) { out.emplace_back(key, std::move(value)); };
  put("tokenizer.ggml.model", GgufValue::of_string(vocab.kind == VocabKind::ByteLevelBpe ? "gpt2" : "llama"));
  put("tokenizer.ggml.pre", GgufValue::of_string(vocab.pre));
  if (!vocab.pre_regexes.empty())
    put("tokenizer.llmnpu.pre_regexes", GgufValue::of_strings(vocab.pre_regexes));
  if (vocab.normalize_nfc) put("tokenizer.llmnpu.normalize_nfc", GgufValue::of_bool(true));
  put("tokenizer.ggml.tokens", GgufValue::of_strings(vocab.tokens));
  if (!vocab.scores.empty()) put("tokenizer.ggml.scores", GgufValue::of_f32s(vocab.scores));
  std::vector<int32_t> types(vocab.types.size());
  for (size_t i = 0; i < types.size(); ++i) types[i] = int32_t(vocab.types[i]);
  put("tokenizer.ggml.token_type", GgufValue::of_i32s(types));
  if (!vocab.merges.empty()) put("tokenizer.ggml.merges", GgufValue::of_strings(vocab.merges));
  auto put_id = [&](const char* key, int32_t id) {
    if (id >= 0) put(key, GgufValue::of_u32(uint32_t(id)));
  };
  put_id("tokenizer.ggml.bos_token_id", vocab.bos_id);
  put_id("tokenizer.ggml.eos_token_id", vocab.eos_id);
  put_id("tokenizer.ggml.unknown_token_id", vocab.unk_id);
  put_id("tokenizer.ggml.padding_token_id", vocab.pad_id);
  put_id("tokenizer.ggml.eot_token_id", vocab.eot_id);
  put("tokenizer.ggml.add_bos_token", GgufValue::of_bool(vocab.add_bos));
  put("tokenizer.ggml.add_eos_token", GgufValue::of_bool(vocab.add_eos));
  put("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(vocab.add_space_prefix));
}

}  // namespace llmnpu
