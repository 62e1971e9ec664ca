#include "fuzz_support.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/utf8.h"
#include "graph/model_graph.h"
#include "model/load_hf_config.h"
#include "model/synth.h"
#include "runtime/engine.h"
#include "tokenizer/load.h"

namespace llmnpu::fuzz {
namespace {

namespace fs = std::filesystem;

struct ScratchFolder {
  std::string path;
  ScratchFolder() {
    std::error_code ec;
    const char* base =
        fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nullptr;
    if (!base) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    std::string pattern = std::string(base) + "/llmnpu-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("llmnpu fuzz: mkdtemp");
      std::abort();
    }
    path = pattern;
  }
  ~ScratchFolder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

namespace {

// A family's tiny synth shape at the micro size: every part of its layers, a few thousand weights.
ModelConfig shrink_to_micro(ModelConfig c, int layers) {
  const int heads = c.n_heads;
  c.dim = 16;
  c.n_layers = layers;
  c.n_heads = 2;
  c.n_kv_heads = c.n_kv_heads == heads ? 2 : 1;
  c.head_dim = 8;
  c.ffn_dim = 32;
  c.vocab_size = 512;
  c.max_seq_len = 64;
  if (c.rotary_dims > 0) c.rotary_dims = c.head_dim / 2;
  if (c.sliding_window > 0) c.sliding_window = 4;
  if (c.embedding_scale != 1.0f) c.embedding_scale = 4.0f;
  return c;
}

}  // namespace

ModelConfig micro_config() { return shrink_to_micro(find_synth_shape("tiny").config, 1); }

std::vector<std::pair<std::string, ModelConfig>> micro_family_configs() {
  std::vector<std::pair<std::string, ModelConfig>> out;
  for (const SynthShape& shape : synth_shapes())
    if (shape.name.rfind("tiny", 0) == 0)  // two layers, so per-layer patterns (Gemma 2's window) show
      out.emplace_back(shape.name == "tiny" ? "llama" : shape.name.substr(5),
                       shrink_to_micro(shape.config, 2));
  return out;
}

std::string seed_config_json() { return hf_config_json(micro_config()); }

const std::string& sample_text() {
  static const std::string text =
      "Hello world! 12345 tokens\n\n  indented\tcode() { return x->y; }\n"
      "Grüße, naïve café. \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 "
      "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80 <s> </s> <|im_end|>";
  return text;
}

const std::string& scratch_dir() {
  static ScratchFolder folder;
  return folder.path;
}

std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "llmnpu fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

std::string write_scratch(const std::string& name, const std::string& text) {
  return write_scratch(name, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

void smoke_forward(const Model& model, const ModelGraph& graph) {
  const ModelConfig& c = model.config;
  // Keep each input cheap: only the seed-sized models run (the fuzzer mutates those).
  const uint64_t work = uint64_t(c.dim) * uint64_t(c.n_layers) * uint64_t(c.ffn_dim + c.dim) +
                        uint64_t(c.dim) * uint64_t(c.vocab_size);
  if (work > (uint64_t(1) << 20)) return;
  EngineOptions options;
  options.threads = 1;
  options.context = std::min(8, std::max(c.max_seq_len, 1));
  Engine engine(model, graph, options);
  if (engine.context() < 4) return;
  const int32_t vocab = c.vocab_size;
  std::vector<int32_t> prompt = {0, vocab - 1, vocab / 2};
  engine.prefill(prompt, 2);
  engine.decode(1 % vocab);
}

void exercise_tokenizer(const Tokenizer& tokenizer, const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  try {
    ids = tokenizer.encode(text, true);
  } catch (const Error& e) {
    // Only invalid UTF-8, or bytes a (fuzzed) vocab cannot spell, may be refused.
    if (utf8::first_invalid(text) == text.size() &&
        std::string_view(e.what()).find("has no token for") == std::string_view::npos) {
      std::fprintf(stderr, "valid UTF-8 refused by %s\n", tokenizer.describe().c_str());
      std::abort();
    }
    return;
  }
  for (int32_t id : ids)
    if (id < 0 || size_t(id) >= tokenizer.vocab_size()) {
      std::fprintf(stderr, "encode produced id %d outside the vocab\n", int(id));
      std::abort();
    }
  const Vocab& v = tokenizer.vocab();
  // Byte-level BPE without normalization or whitespace-swallowing tokens must round-trip exactly.
  if (v.kind == VocabKind::ByteLevelBpe && !v.normalize_nfc && v.rstrip.empty()) {
    const std::vector<int32_t> plain = tokenizer.encode(text, false);
    // Tokens that are not Normal decode as their type says (special text raw, unknown as itself), not as
    // mapped bytes. A fuzzed token_type can give a byte or merged token such a type: only ids that are
    // Normal, or special tokens whose text the input spells, must round-trip.
    const bool used_unknown = std::any_of(plain.begin(), plain.end(), [&](int32_t id) {
      const TokenType type = v.types[size_t(id)];
      const bool special = type == TokenType::Control || type == TokenType::UserDefined;
      return id == v.unk_id || (type != TokenType::Normal && !special) ||
             (special && text.find(v.tokens[size_t(id)]) == std::string_view::npos);
    });
    if (!used_unknown && tokenizer.decode(plain) != text) {
      std::fprintf(stderr, "byte-level round trip failed for %s\n", tokenizer.describe().c_str());
      std::abort();
    }
  }
  std::string decoded = tokenizer.decode(ids);
  if (utf8::first_invalid(decoded) != decoded.size()) {
    std::fprintf(stderr, "decode produced invalid UTF-8\n");
    std::abort();
  }
  // Arbitrary ids (the input's bytes as ids, some out of range): decoding must not crash either.
  std::vector<int32_t> arbitrary;
  for (size_t i = 0; i + 1 < size && arbitrary.size() < 64; i += 2)
    arbitrary.push_back(int32_t(data[i] | (data[i + 1] << 8)) % int32_t(tokenizer.vocab_size() + 3));
  try {
    StreamingDecoder stream(tokenizer);
    for (int32_t id : arbitrary) (void)stream.push(id);
    (void)tokenizer.decode(arbitrary);
  } catch (const Error&) {
  }
}

const std::vector<std::unique_ptr<Tokenizer>>& reference_tokenizers() {
  static const std::vector<std::unique_ptr<Tokenizer>> list = [] {
    std::vector<std::unique_ptr<Tokenizer>> out;
    out.push_back(make_tokenizer(builtin_byte_vocab()));
    const char* env = std::getenv("LLMNPU_SHARED_DIR");
    const std::string shared = env ? env : LLMNPU_SHARED_DIR;
    for (const char* relative :
         {"testdata/tokenizers/llama2/tokenizer.json", "testdata/tokenizers/qwen3/tokenizer.json",
          "testdata/tokenizers/ggml-vocab/ggml-vocab-llama-spm.gguf",
          "testdata/tokenizers/ggml-vocab/ggml-vocab-gpt-2.gguf",
          "testdata/tokenizers/ggml-vocab/ggml-vocab-deepseek-coder.gguf",
          "testdata/tokenizers/ggml-vocab/ggml-vocab-phi-3.gguf",
          "testdata/tokenizers/llama2/tokenizer.bin"}) {
      const std::string path = shared + "/" + relative;
      std::error_code ec;
      if (fs::exists(path, ec)) out.push_back(load_tokenizer(path));
    }
    return out;
  }();
  return list;
}

}  // namespace llmnpu::fuzz
