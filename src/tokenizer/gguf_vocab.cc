#include <cctype>

#include "core/error.h"
#include "tokenizer/load.h"

namespace llmnpu {

Vocab vocab_from_gguf(const GgufFile& gguf) {
  const std::string model = gguf.get_string("tokenizer.ggml.model", "");
  check(!model.empty(), gguf.path(), ": no tokenizer in this GGUF file (tokenizer.ggml.model is missing)");
  Vocab v;
  if (model == "gpt2")
    v.kind = VocabKind::ByteLevelBpe;
  else if (model == "llama")
    v.kind = VocabKind::SentencePieceBpe;
  else
    fail(gguf.path(), ": unsupported tokenizer model '", model, "' (supported: gpt2, llama)");
  const bool spm = v.kind == VocabKind::SentencePieceBpe;

  v.pre = gguf.get_string("tokenizer.ggml.pre", "default");
  if (const GgufValue* r = gguf.find("tokenizer.llmnpu.pre_regexes")) v.pre_regexes = r->as_strings();
  v.tokens = gguf.get("tokenizer.ggml.tokens").as_strings();
  if (const GgufValue* s = gguf.find("tokenizer.ggml.scores")) v.scores = s->as_floats();
  if (const GgufValue* t = gguf.find("tokenizer.ggml.token_type")) {
    for (int64_t type : t->as_ints()) {
      check(type >= 0 && type <= 6, gguf.path(), ": invalid tokenizer.ggml.token_type value ", type);
      v.types.push_back(TokenType(type));
    }
  } else {
    v.types.assign(v.tokens.size(), TokenType::Normal);
  }
  if (const GgufValue* m = gguf.find("tokenizer.ggml.merges")) v.merges = m->as_strings();

  // Ids beyond the vocab (some converters write them) mean "none" rather than a broken file.
  auto special_id = [&](const char* key, int64_t fallback) {
    const int64_t id = gguf.get_int(key, fallback);
    return id >= 0 && id < int64_t(v.tokens.size()) ? int32_t(id) : -1;
  };
  v.bos_id = special_id("tokenizer.ggml.bos_token_id", spm ? 1 : -1);
  v.eos_id = special_id("tokenizer.ggml.eos_token_id", spm ? 2 : -1);
  v.unk_id = special_id("tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
  v.pad_id = special_id("tokenizer.ggml.padding_token_id", -1);
  v.eot_id = special_id("tokenizer.ggml.eot_token_id", -1);
  if (const GgufValue* t = gguf.find("tokenizer.chat_template")) {
    check(t->type == GgufType::STRING, gguf.path(), ": tokenizer.chat_template is not a string");
    v.chat_template = t->as_string();
  }
  auto flag = [&](const char* key, bool fallback) {
    const GgufValue* value = gguf.find(key);
    return value ? value->as_bool() : fallback;
  };
  v.add_bos = flag("tokenizer.ggml.add_bos_token", spm);
  v.add_eos = flag("tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = flag("tokenizer.ggml.add_space_prefix", spm);
  v.normalize_nfc = flag("tokenizer.llmnpu.normalize_nfc",
                         v.pre == "qwen2" || v.pre == "deepseek-r1-qwen" || v.pre == "mpt");
  // llama.cpp looks whole pre-tokens up in the vocabulary before merging for these (as their HF tokenizers'
  // ignore_merges does).
  for (const char* pre :
       {"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "tekken"})
    v.ignore_merges = v.ignore_merges || v.pre == pre;
  // llama.cpp gives Phi-3's special tokens the RSTRIP attribute (by model name): whitespace after them in
  // the text is dropped, so "<|user|>\nHi" tokenizes as <|user|> "Hi".
  std::string name = gguf.get_string("general.name", "");
  for (char& ch : name) ch = char(std::tolower(uint8_t(ch)));
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    v.rstrip.assign(v.tokens.size(), 0);
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      const bool special = v.types[i] == TokenType::Control || v.types[i] == TokenType::UserDefined ||
                           v.types[i] == TokenType::Unknown;
      const std::string& t = v.tokens[i];
      v.rstrip[i] = (special || t == "</s>") && t != "<unk>" && t != "<s>" && t != "<|endoftext|>";
    }
  }
  v.validate();
  return v;
}

}  // namespace llmnpu
