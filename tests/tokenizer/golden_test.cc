// Golden vectors: the ggml-vocab suites (llama.cpp's test inputs with Hugging Face reference ids) and the
// Qwen3 / Llama 2 JSONL cases (transformers.js, cross-checked with HF tokenizers), loaded every way we can.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/testdata.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "suite_report.h"
#include "tokenizer/load.h"

namespace llmnpu {
namespace {

const char* kDir = "testdata/tokenizers";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Loads each tokenizer once per test program (tokenizer.json for Qwen3 is 11 MB).
const Tokenizer& cached(const std::string& key, const std::function<std::unique_ptr<Tokenizer>()>& load) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[key];
  if (!slot) slot = load();
  return *slot;
}

// A GGUF written from the vocab's metadata and read back.
std::unique_ptr<Tokenizer> through_gguf(const Vocab& vocab, const std::string& name) {
  std::vector<std::pair<std::string, GgufValue>> metadata;
  metadata.emplace_back("general.architecture", GgufValue::of_string("llama"));
  append_vocab_metadata(vocab, metadata);
  GgufWriter writer;
  for (auto& [key, value] : metadata) writer.set(key, value);
  std::string path = test::temp_dir() + "/" + name + ".gguf";
  writer.write(path);
  return make_tokenizer(vocab_from_gguf(GgufFile(path)));
}

// ---- ggml-vocab suites -------------------------------------------------------------------------------

void run_ggml_vocab_suite(const std::string& name) {
  std::string base = std::string(kDir) + "/ggml-vocab/ggml-vocab-" + name + ".gguf";
  LLMNPU_REQUIRE_SHARED(base + ".inp");
  auto tokenizer = load_tokenizer(test::shared_path(base));

  // Each string is followed by "\n__ggml_vocab_test__\n"; the .out has one line of ids per string.
  std::string inp = read_file(test::shared_path(base + ".inp"));
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    size_t end = inp.find(sep, pos);
    ASSERT_NE(end, std::string::npos) << "unterminated case in " << base << ".inp";
    texts.push_back(inp.substr(pos, end - pos));
    pos = end + sep.size();
  }
  std::istringstream out(read_file(test::shared_path(base + ".out")));
  std::vector<std::vector<int32_t>> expected;
  for (std::string line; std::getline(out, line);) {
    std::istringstream ids(line);
    expected.emplace_back();
    for (int32_t id; ids >> id;) expected.back().push_back(id);
  }
  ASSERT_EQ(texts.size(), expected.size()) << base;

  test::SuiteReport report("ggml-vocab-" + name);
  for (size_t i = 0; i < texts.size(); ++i) {
    auto ids = tokenizer->encode(texts[i], false);
    report.record(std::to_string(i), ids == expected[i],
                  "text " + nlohmann::json(texts[i]).dump() + "\n  got      " + test::ids_text(ids) +
                      "\n  expected " + test::ids_text(expected[i]));
  }
}

TEST(GgmlVocab, Gpt2) { run_ggml_vocab_suite("gpt-2"); }
TEST(GgmlVocab, Mpt) { run_ggml_vocab_suite("mpt"); }
TEST(GgmlVocab, Starcoder) { run_ggml_vocab_suite("starcoder"); }
TEST(GgmlVocab, DeepseekCoder) { run_ggml_vocab_suite("deepseek-coder"); }
TEST(GgmlVocab, LlamaSpm) { run_ggml_vocab_suite("llama-spm"); }
TEST(GgmlVocab, Phi3) { run_ggml_vocab_suite("phi-3"); }

// ---- JSONL suites ------------------------------------------------------------------------------------

void run_jsonl_suite(const std::string& suite, const std::string& jsonl, const Tokenizer& tokenizer) {
  test::SuiteReport report(suite);
  std::istringstream lines(read_file(test::shared_path(std::string(kDir) + "/" + jsonl)));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto c = nlohmann::json::parse(line);
    std::string text = c["text"];
    auto expected = c["ids"].get<std::vector<int32_t>>();
    auto ids = tokenizer.encode(text, false);
    bool ok = ids == expected;
    std::string detail = "text " + nlohmann::json(text).dump() + "\n  got      " + test::ids_text(ids) +
                         "\n  expected " + test::ids_text(expected);
    if (c.contains("ids_with_special")) {
      auto with = tokenizer.encode(text, true);
      auto expected_with = c["ids_with_special"].get<std::vector<int32_t>>();
      if (with != expected_with) {
        ok = false;
        detail +=
            "\n  with special got " + test::ids_text(with) + ", expected " + test::ids_text(expected_with);
      }
    }
    std::string decoded = tokenizer.decode(expected);
    if (decoded != c["decoded"].get<std::string>()) {
      ok = false;
      detail += "\n  decoded " + nlohmann::json(decoded).dump() + ", expected " + c["decoded"].dump();
    }
    report.record(c["case"], ok, detail);
  }
}

const Tokenizer& qwen3_json() {
  return cached("qwen3.json", [] { return load_tokenizer(test::shared_path("testdata/tokenizers/qwen3")); });
}
const Tokenizer& llama2_json() {
  return cached("llama2.json", [] {
    return load_tokenizer(test::shared_path("testdata/tokenizers/llama2/tokenizer.json"));
  });
}

TEST(Qwen3Golden, TokenizerJson) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/qwen3/tokenizer.json");
  run_jsonl_suite("qwen3 tokenizer.json", "qwen3.visible.jsonl", qwen3_json());
}

TEST(Qwen3Golden, WrittenGguf) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/qwen3/tokenizer.json");
  auto tokenizer = through_gguf(qwen3_json().vocab(), "qwen3");
  EXPECT_EQ(tokenizer->vocab().pre, "qwen2");
  run_jsonl_suite("qwen3 written GGUF", "qwen3.visible.jsonl", *tokenizer);
}

TEST(Llama2Golden, TokenizerJson) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/llama2/tokenizer.json");
  run_jsonl_suite("llama2 tokenizer.json", "llama2.visible.jsonl", llama2_json());
}

TEST(Llama2Golden, TokenizerBin) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/llama2/tokenizer.bin");
  auto tokenizer = make_tokenizer(
      vocab_from_llama2c(test::shared_path("testdata/tokenizers/llama2/tokenizer.bin"), 32000));
  run_jsonl_suite("llama2 tokenizer.bin", "llama2.visible.jsonl", *tokenizer);
}

TEST(Llama2Golden, LlamaSpmGguf) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/ggml-vocab/ggml-vocab-llama-spm.gguf");
  auto tokenizer =
      load_tokenizer(test::shared_path("testdata/tokenizers/ggml-vocab/ggml-vocab-llama-spm.gguf"));
  run_jsonl_suite("llama2 ggml-vocab-llama-spm.gguf", "llama2.visible.jsonl", *tokenizer);
}

TEST(Llama2Golden, WrittenGgufFromJson) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/llama2/tokenizer.json");
  // Merges dropped: the GGUF reader then merges by the scores synthesized from the merge ranks, as
  // llama.cpp would.
  Vocab vocab = llama2_json().vocab();
  vocab.merges.clear();
  auto tokenizer = through_gguf(vocab, "llama2");
  run_jsonl_suite("llama2 written GGUF (scores)", "llama2.visible.jsonl", *tokenizer);
}

TEST(Llama2Golden, WrittenGgufFromTokenizerBin) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/llama2/tokenizer.bin");
  auto tokenizer = through_gguf(
      vocab_from_llama2c(test::shared_path("testdata/tokenizers/llama2/tokenizer.bin"), 32000), "llama2c");
  run_jsonl_suite("llama2 tokenizer.bin -> GGUF", "llama2.visible.jsonl", *tokenizer);
}

}  // namespace
}  // namespace llmnpu
