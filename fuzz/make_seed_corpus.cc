// Writes the seed corpora of the fuzz harnesses (fuzz/corpus/<what>/): small valid inputs of every
// kind each parser reads, made with the engine's own writers at the micro shape. Run by
// fuzz/make_seed_corpus.sh, which adds the prepared seeds with `llmnpu prepare`; the output is committed.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "format/gguf_writer.h"
#include "fuzz_support.h"
#include "model/load_hf_config.h"
#include "model/model_writer.h"
#include "model/synth.h"
#include "tokenizer/load.h"

using namespace llmnpu;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  check(bool(out), "cannot write ", path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "cannot read ", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::unique_ptr<Model> micro_model(const ModelConfig& config) {
  SynthOptions options;
  options.config = &config;
  options.shape = "micro-" + config.arch;
  return synthesize_model(options, builtin_byte_vocab());
}

// A llama2.c checkpoint at the micro shape: header, then every array in file order (values arbitrary).
std::string llama2c_checkpoint(bool shared_classifier) {
  const int32_t dim = 16, hidden = 32, layers = 1, heads = 2, kv_heads = 1, vocab = 32, seq_len = 16;
  const int32_t header[7] = {dim,    hidden, layers, heads, kv_heads, shared_classifier ? vocab : -vocab,
                             seq_len};
  const uint64_t head = dim / heads, kv = uint64_t(kv_heads) * head;
  const uint64_t floats =
      uint64_t(vocab) * dim +
      layers * (dim + dim * dim + 2 * kv * dim + dim * dim + dim + 3 * uint64_t(hidden) * dim) + dim +
      uint64_t(seq_len) * head + (shared_classifier ? 0 : uint64_t(vocab) * dim);
  std::string bytes(reinterpret_cast<const char*>(header), sizeof(header));
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  for (uint64_t i = 0; i < floats; ++i) {
    float v = normal(rng);
    bytes.append(reinterpret_cast<const char*>(&v), 4);
  }
  return bytes;
}

// A llama2.c tokenizer.bin with a handful of pieces.
std::string llama2c_tokenizer() {
  std::string bytes;
  auto put_i32 = [&](int32_t v) { bytes.append(reinterpret_cast<const char*>(&v), 4); };
  auto put_f32 = [&](float v) { bytes.append(reinterpret_cast<const char*>(&v), 4); };
  put_i32(8);
  const char* pieces[] = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " ", "a", "b", " a", "ab", " ab"};
  float score = 0;
  for (const char* p : pieces) {
    put_f32(score--);
    put_i32(int32_t(std::strlen(p)));
    bytes += p;
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_seed_corpus CORPUS_FOLDER SHARED_FOLDER MODELS_FOLDER\n");
    return 2;
  }
  try {
    const fs::path corpus = argv[1], shared = argv[2], models = argv[3];
    fs::create_directories(models);
    const fs::path scratch = fuzz::scratch_dir();
    for (const char* what : {"gguf", "gguf_vocab", "prepared"}) fs::create_directories(corpus / what);
    for (const auto& [family, config] : fuzz::micro_family_configs()) {
      std::unique_ptr<Model> model = micro_model(config);
      const fs::path gguf = corpus / "gguf" / (family + ".gguf");
      fs::create_directories(gguf.parent_path());
      write_model_gguf(*model, gguf.string(), family == "llama" ? GgmlType::F32 : GgmlType::F16);
      write_file(corpus / "hf_config" / (family + ".json"), hf_config_json(config));
      // The micro models of each family, for `llmnpu prepare` (not a corpus themselves).
      write_model_gguf(*model, (models / (family + ".gguf")).string(), GgmlType::F32);
    }
    {
      std::unique_ptr<Model> model = micro_model(fuzz::micro_config());
      write_model_hf(*model, (scratch / "hf").string());
      write_file(corpus / "safetensors" / "micro.safetensors",
                 read_file(scratch / "hf" / "model.safetensors"));
      write_file(corpus / "tokenizer_json" / "byte_level.json", read_file(scratch / "hf" / "tokenizer.json"));
      GgufWriter vocab_only;
      std::vector<std::pair<std::string, GgufValue>> keys;
      append_vocab_metadata(model->tokenizer->vocab(), keys);
      for (auto& [key, value] : keys) vocab_only.set(key, std::move(value));
      vocab_only.write((corpus / "gguf_vocab" / "byte_level.gguf").string());
    }
    {
      const Vocab spm = vocab_from_llama2c((shared / "testdata/tokenizers/tok512/tok512.bin").string(), 0);
      write_hf_tokenizer(spm, (scratch / "spm").string());
      write_file(corpus / "tokenizer_json" / "sentencepiece.json",
                 read_file(scratch / "spm" / "tokenizer.json"));
      write_file(corpus / "tokenizer_config" / "sentencepiece.json",
                 read_file(scratch / "spm" / "tokenizer_config.json"));
      write_file(corpus / "tokenizer_config" / "byte_level.json",
                 read_file(scratch / "hf" / "tokenizer_config.json"));
      GgufWriter vocab_only;
      std::vector<std::pair<std::string, GgufValue>> keys;
      append_vocab_metadata(spm, keys);
      for (auto& [key, value] : keys) vocab_only.set(key, std::move(value));
      vocab_only.write((corpus / "gguf_vocab" / "sentencepiece.gguf").string());
      write_file(corpus / "llama2c_tokenizer" / "tok512.bin",
                 read_file(shared / "testdata/tokenizers/tok512/tok512.bin"));
    }
    write_file(corpus / "tokenizer_config" / "object_tokens.json",
               R"({"bos_token": {"content": "<|endoftext|>", "lstrip": false}, "eos_token": "<|endoftext|>",)"
               R"( "pad_token": null, "add_bos_token": true, "add_eos_token": false})");
    write_file(corpus / "llama2c_tokenizer" / "handmade.bin", llama2c_tokenizer());
    write_file(corpus / "llama2c" / "shared_classifier.bin", llama2c_checkpoint(true));
    write_file(corpus / "llama2c" / "own_classifier.bin", llama2c_checkpoint(false));
    const char* texts[] = {"Hello world! 12345 tokens\n\n  indented\ttext",
                           "def f(x):\n    return x ** 2  # \xE4\xBD\xA0\xE5\xA5\xBD",
                           "<s> </s> <|endoftext|> <unk> \xF0\x9F\x98\x80 caf\xC3\xA9",
                           "\xFF\xFE invalid \xC3"};
    for (int tokenizer = 0; tokenizer < 8; ++tokenizer) {
      const std::string text = texts[tokenizer % 4];
      write_file(corpus / "tokenize" / ("text" + std::to_string(tokenizer)),
                 std::string(1, char(tokenizer)) + text);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
