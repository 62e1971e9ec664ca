#include "tokenizer/vocab.h"

#include "core/error.h"

namespace llmnpu {
namespace {

const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The word pattern of the GPT-4o / Llama 4 tokenizer (upper-then-lower letter runs, contractions).
const char* kGpt4oRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
    R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Mistral's Tekken: the same letter runs, single digits, no contractions.
const char* kTekkenRegex = R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|)"
                           R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|)"
                           R"(\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// BLOOM / Poro / GPT-3 Finnish: runs of anything but whitespace and sentence punctuation (the class
// also excludes '(', '|' and ')', as the models' own pattern does).
const char* kBloomRegex = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";
// DeepSeek LLM's letter class: the cased letters (Lu, Ll, Lt) of the Unicode version it was made with.
const char* kDeepseekLetters =
    R"(\x{41}-\x{5A}\x{61}-\x{7A}\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF})"
    R"(\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386})"
    R"(\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F})"
    R"(\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA})"
    R"(\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15})"
    R"(\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B})"
    R"(\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4})"
    R"(\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124})"
    R"(\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-)"
    R"(\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE})"
    R"(\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})"
    R"(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A})"
    R"(\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-)"
    R"(\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943})";

bool is_one_of(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

}  // namespace

std::vector<std::string> pre_tokenizer_regexes(const std::string& pre) {
  if (is_one_of(pre,
                {"default",      "gpt-2",       "gpt2",     "phi-2",           "mpt",        "olmo",
                 "jais",         "gpt-neox",    "trillion", "granite-docling", "exaone4",    "a.x-4.0",
                 "mellum",       "jina-es",     "jina-de",  "jina-v2-es",      "jina-v2-de", "jina-v1-en",
                 "jina-v2-code", "roberta-bpe", ""}))
    return {kGpt2Regex};
  if (is_one_of(pre, {"llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe", "falcon3", "falcon-h1",
                      "pixtral", "midm-2.0", "lfm2", "chatglm-bpe", "glm4"}))
    return {kLlama3Regex};
  if (is_one_of(pre,
                {"qwen2", "qwen3", "deepseek-r1-qwen", "stablelm2", "hunyuan", "megrez", "kormo", "grok-2"}))
    return {kQwen2Regex};
  if (is_one_of(pre, {"gpt-4o", "llama4", "minimax-m2"})) return {kGpt4oRegex};
  if (pre == "tekken") return {kTekkenRegex};
  if (is_one_of(pre, {"poro-chat", "bloom", "gpt3-finnish"})) return {kBloomRegex};
  if (pre == "viking") return {kBloomRegex, R"(\p{N})"};
  if (pre == "deepseek-llm")
    return {R"([\r\n])",
            std::string(R"(\s?[)") + kDeepseekLetters + "]+",
            R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)",
            R"(\s+$)",
            R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)",
            R"(\p{N}+)"};
  if (is_one_of(pre, {"deepseek-v3", "hunyuan-dense"}))
    return {R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
            R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|)"
            R"( ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"};
  if (pre == "seed-coder")
    return {
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)"};
  if (is_one_of(pre, {"bailingmoe", "bailingmoe2", "llada-moe"}))
    return {
        R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)"};
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
  if (!vocab.chat_template.empty()) put("tokenizer.chat_template", GgufValue::of_string(vocab.chat_template));
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
