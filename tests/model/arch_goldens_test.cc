// The paper's other model families against llama.cpp: the synthetic-weight GGUF models of
// ../shared/testdata/models/archs (schema and tolerances in its README) load, tokenize as llama-tokenize
// does, continue greedily with llama.cpp's ids, and give last-position log-probabilities within 2e-3 of
// the float64 reference forward (and within the README's tolerance of llama.cpp's own F32-KV logits).
// Chunked prefill agrees with one batch, and the reference interpreter with the engine.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backend/float_graph.h"
#include "backend/reference_interpreter.h"
#include "common/testdata.h"
#include "model/loader.h"
#include "runtime/engine.h"
#include "runtime/perplexity.h"
#include "runtime/sampler.h"
#include "tokenizer/load.h"

namespace llmnpu {
namespace {

const std::string kDir = "testdata/models/archs/";

nlohmann::json goldens(const std::string& name) {
  std::ifstream in(test::shared_path(kDir + name + ".goldens.json"));
  return nlohmann::json::parse(in);
}

std::vector<float> read_f32(const std::string& file) {
  std::ifstream in(test::shared_path(kDir + file), std::ios::binary);
  std::vector<float> v;
  float x;
  while (in.read(reinterpret_cast<char*>(&x), sizeof x)) v.push_back(x);
  return v;
}

std::vector<double> log_softmax(const std::vector<float>& logits) {
  double mx = -1e300, sum = 0;
  for (float v : logits) mx = std::max(mx, double(v));
  for (float v : logits) sum += std::exp(double(v) - mx);
  std::vector<double> out;
  for (float v : logits) out.push_back(double(v) - mx - std::log(sum));
  return out;
}

double max_logprob_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  const auto la = log_softmax(a), lb = log_softmax(b);
  double m = 0;
  for (size_t i = 0; i < la.size() && i < lb.size(); ++i) m = std::max(m, std::fabs(la[i] - lb[i]));
  return m;
}

struct Arch {
  const char* name;
  double llama_tolerance;  // README: vs llama.cpp's F32-KV logits (its own F16 roundings included)
};

class ArchGoldens : public testing::TestWithParam<Arch> {};

TEST_P(ArchGoldens, MatchLlamaCpp) {
  const Arch arch = GetParam();
  LLMNPU_REQUIRE_SHARED(kDir + arch.name + ".gguf");
  const nlohmann::json g = goldens(arch.name);
  auto model = load_model(test::shared_path(kDir + arch.name + ".gguf"));
  ASSERT_NE(model->tokenizer, nullptr);
  const Tokenizer& tok = *model->tokenizer;
  ModelGraph graph = build_float_graph(*model);
  const int vocab = model->config.vocab_size;

  for (const auto& c : g["tokenization"]["cases"]) {
    const std::string prompt = c["prompt"];
    EXPECT_EQ(tok.encode(prompt, tok.adds_bos()), c["ids"].get<std::vector<int32_t>>()) << prompt;
    EXPECT_EQ(tok.encode(prompt, false), c["ids_no_bos"].get<std::vector<int32_t>>()) << prompt;
  }

  // The same vocabulary as a Hugging Face tokenizer.json (Gemma's and Phi-3's SentencePiece with merges
  // derived from the scores, Phi-2's byte-level BPE) tokenizes the same.
  const std::string folder = test::temp_dir() + "/" + arch.name + "-tokenizer";
  write_hf_tokenizer(tok.vocab(), folder);
  const auto from_json = load_tokenizer(folder + "/tokenizer.json");
  for (const auto& c : g["tokenization"]["cases"]) {
    const std::string prompt = c["prompt"];
    EXPECT_EQ(from_json->encode(prompt, from_json->adds_bos()), c["ids"].get<std::vector<int32_t>>())
        << "tokenizer.json: " << prompt;
  }

  for (const auto& c : g["greedy"]["cases"]) {
    const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    const auto want = c["generated_ids"].get<std::vector<int32_t>>();
    Engine engine(*model, graph, {2, 512, nullptr});
    std::vector<float> logits = engine.prefill(prompt);
    std::vector<int32_t> got;
    for (size_t i = 0; i < want.size(); ++i) {
      got.push_back(argmax(logits.data(), vocab));
      logits = engine.decode(got.back());
    }
    EXPECT_EQ(got, want) << c["prompt"];
  }

  double worst_f64 = 0, worst_llama = 0, worst_chunked = 0, worst_reference = 0;
  for (const auto& c : g["logits"]["cases"]) {
    const auto prompt = c["prompt_ids"].get<std::vector<int32_t>>();
    Engine engine(*model, graph, {2, 512, nullptr});
    const std::vector<float> logits = engine.prefill(prompt);
    worst_f64 = std::max(worst_f64, max_logprob_diff(logits, read_f32(c["final_logits_numpy_f64_file"])));
    worst_llama = std::max(worst_llama, max_logprob_diff(logits, read_f32(c["final_logits_kv_f32_file"])));
    Engine chunked(*model, graph, {2, 512, nullptr});
    worst_chunked = std::max(worst_chunked, max_logprob_diff(logits, chunked.prefill(prompt, 16)));
    ReferenceInterpreter reference(*model, 512);
    std::vector<float> ref;
    for (int32_t id : prompt) ref = reference.forward(id);
    worst_reference = std::max(worst_reference, max_logprob_diff(logits, ref));
  }
  // Perplexity as llama-perplexity scores it (-c 128 over the first 7770 bytes of wikitext-2 test).
  {
    std::ifstream in(test::shared_path("testdata/eval/wikitext-2-raw/wiki.test.lf.raw"), std::ios::binary);
    std::string text(7770, '\0');
    in.read(text.data(), 7770);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const std::vector<int32_t> tokens = tok.encode(text, tok.adds_bos());
    EXPECT_EQ(tokens, g["perplexity"]["tokens"].get<std::vector<int32_t>>());
    Engine engine(*model, graph, {2, 128, nullptr});
    const PerplexityResult r =
        compute_perplexity_llama_cpp(engine, tokens, 128, tok.adds_bos() ? tok.bos_id() : -1, 0, 0);
    const double want = g["perplexity"]["final_estimate"];
    std::printf("%s: perplexity %.4f, llama-perplexity %.4f (%+.3f%%)\n", arch.name, r.perplexity, want,
                100 * (r.perplexity / want - 1));
    EXPECT_NEAR(r.perplexity / want, 1.0, 0.005);
  }
  std::printf(
      "%s: last-position max |d logprob| vs float64 %.2e, vs llama.cpp F32-KV %.2e, chunk 16 vs one "
      "batch %.2e, reference interpreter %.2e\n",
      arch.name, worst_f64, worst_llama, worst_chunked, worst_reference);
  EXPECT_LE(worst_f64, 2e-3);
  EXPECT_LE(worst_llama, arch.llama_tolerance);
  EXPECT_LE(worst_chunked, 1e-4);
  EXPECT_LE(worst_reference, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Families, ArchGoldens,
                         testing::Values(Arch{"vgemma", 8e-3}, Arch{"vgemma2", 3e-2}, Arch{"vphi2", 7e-3},
                                         Arch{"vphi3", 2e-3}),
                         [](const testing::TestParamInfo<Arch>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace llmnpu
