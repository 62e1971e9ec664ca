// The float forward pass: the engine against the reference interpreter, and the engine against itself
// (batched prefill vs token-by-token decode, chunked vs one-chunk prefill).
#include <gtest/gtest.h>

#include <cmath>

#include "backend/float_graph.h"
#include "backend/reference_interpreter.h"
#include "common/compare.h"
#include "common/testdata.h"
#include "core/error.h"
#include "model/loader.h"
#include "model/synth.h"
#include "runtime/engine.h"
#include "runtime/sampler.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

using test::max_abs_diff;

std::unique_ptr<Model> tiny_model(bool outliers, const std::string& shape = "tiny") {
  SynthOptions o;
  o.shape = shape;
  o.outliers = outliers;
  o.seed = 7;
  return synthesize_model(o, builtin_byte_vocab());
}

TEST(Forward, Stories260KGreedyMatchesTheReferenceInterpreter) {
  LLMNPU_REQUIRE_SHARED("testdata/models/stories260K/stories260K.bin");
  auto model = load_model(test::shared_path("testdata/models/stories260K/stories260K.bin"));
  ModelGraph graph = build_float_graph(*model);
  Engine engine(*model, graph, {2, 128, nullptr});
  ReferenceInterpreter naive(*model, 128);

  std::vector<int32_t> engine_ids{1}, naive_ids{1};
  std::vector<float> logits = engine.prefill({1});
  std::vector<float> naive_logits = naive.forward(1);
  float worst = 0;
  for (int i = 0; i < 60; ++i) {
    worst = std::max(worst, max_abs_diff(logits, naive_logits));
    engine_ids.push_back(argmax(logits.data(), model->config.vocab_size));
    naive_ids.push_back(argmax(naive_logits.data(), model->config.vocab_size));
    ASSERT_EQ(engine_ids.back(), naive_ids.back()) << "diverged at step " << i;
    logits = engine.decode(engine_ids.back());
    naive_logits = naive.forward(naive_ids.back());
  }
  EXPECT_LT(worst, 1e-3f);
  std::printf("stories260K: 60 greedy ids identical, max |logit diff| vs reference = %.3g\n", worst);
}

TEST(Forward, BatchedPrefillEqualsTokenByTokenDecode) {
  for (const char* shape : {"tiny"}) {
    for (bool outliers : {false, true}) {
      auto model = tiny_model(outliers, shape);
      ModelGraph graph = build_float_graph(*model);
      std::vector<int32_t> prompt;
      for (int i = 0; i < 37; ++i) prompt.push_back((i * 97 + 13) % model->config.vocab_size);
      std::vector<std::vector<float>> batched;
      Engine a(*model, graph, {2, 64, nullptr});
      a.prefill(prompt, 0,
                [&](int, const float* l) { batched.emplace_back(l, l + model->config.vocab_size); });
      Engine b(*model, graph, {1, 64, nullptr});
      float worst = 0;
      for (size_t t = 0; t < prompt.size(); ++t) {
        std::vector<float> step = b.decode(prompt[t]);
        worst = std::max(worst, max_abs_diff(batched[t], step));
      }
      EXPECT_LT(worst, 2e-4f) << shape << " outliers=" << outliers;
      std::printf("%s%s: batched prefill vs token-by-token decode, max |logit diff| = %.3g\n", shape,
                  outliers ? "+outliers" : "", worst);
    }
  }
}

TEST(Forward, ChunkedPrefillEqualsOneChunk) {
  auto model = tiny_model(true);
  ModelGraph graph = build_float_graph(*model);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 100; ++i) prompt.push_back((i * 31 + 5) % model->config.vocab_size);
  Engine a(*model, graph, {2, 256, nullptr});
  std::vector<float> one = a.prefill(prompt);
  for (int chunk : {1, 16, 33, 64}) {
    Engine b(*model, graph, {2, 256, nullptr});
    std::vector<float> chunked = b.prefill(prompt, chunk);
    EXPECT_LT(max_abs_diff(one, chunked), 2e-4f) << "chunk " << chunk;
    // Decode continues from the same cache either way.
    EXPECT_LT(max_abs_diff(a.decode(3), b.decode(3)), 2e-4f);
    a.reset();
    a.prefill(prompt);
  }
}

// Keeps a copy of every input row it sees, then runs the wrapped linear.
class CapturingLinear final : public LinearOp {
 public:
  CapturingLinear(std::unique_ptr<LinearOp> inner, std::vector<float>* rows)
      : LinearOp(inner->in_features(), inner->out_features()), inner_(std::move(inner)), rows_(rows) {}
  void forward(const float* x, int T, size_t ldx, float* y, size_t ldy, bool accumulate,
               ThreadPool* pool) const override {
    for (int t = 0; t < T; ++t)
      rows_->insert(rows_->end(), x + size_t(t) * ldx, x + size_t(t) * ldx + in_features());
    inner_->forward(x, T, ldx, y, ldy, accumulate, pool);
  }
  std::string describe() const override { return inner_->describe(); }
  size_t weight_bytes() const override { return inner_->weight_bytes(); }

 private:
  std::unique_ptr<LinearOp> inner_;
  std::vector<float>* rows_;
};

TEST(Forward, IndependentSequencesInOneChunkComputeWhatEachAloneComputes) {
  // The last layer's down projection sees everything before it (attention over each sequence's own
  // positions, RoPE from position 0): its inputs must be the rows separate prefills give, in order.
  for (const std::string shape : {"tiny", "tiny-phi2", "tiny-gemma2", "tiny-qwen3"}) {
    auto model = tiny_model(true, shape);
    ModelGraph graph = build_float_graph(*model);
    std::vector<float> rows;
    LayerLinears& last = graph.layers.back();
    last.down = std::make_unique<CapturingLinear>(std::move(last.down), &rows);
    Engine engine(*model, graph, {2, 64, nullptr});
    const std::vector<std::vector<int32_t>> sequences = {
        {1, 5, 9, 200, 33, 7, 7, 7, 12},
        {3},
        {40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56},
        {9, 8}};
    engine.prefill_independent(sequences);
    EXPECT_EQ(engine.position(), 0);
    const std::vector<float> together = rows;
    rows.clear();
    for (const auto& s : sequences) {
      engine.reset();
      engine.prefill(s);
    }
    ASSERT_EQ(together.size(), rows.size()) << shape;
    float largest = 1;
    for (float v : rows) largest = std::max(largest, std::fabs(v));
    EXPECT_LE(max_abs_diff(together, rows), 1e-5f * largest) << shape;
    // A sequence longer than the context, or an empty one, is an error before anything runs.
    EXPECT_THROW(engine.prefill_independent({std::vector<int32_t>(65, 1)}), Error);
    EXPECT_THROW(engine.prefill_independent({{1, 2}, {}}), Error);
  }
}

TEST(Forward, PromptLongerThanContextIsAnError) {
  auto model = tiny_model(false);
  ModelGraph graph = build_float_graph(*model);
  Engine e(*model, graph, {1, 16, nullptr});
  std::vector<int32_t> prompt(17, 5);
  EXPECT_THROW(e.prefill(prompt), Error);
  std::vector<int32_t> bad{1, model->config.vocab_size};
  EXPECT_THROW(e.prefill(bad), Error);
}

TEST(Sampler, GreedyTopKTopPAndSeeds) {
  std::vector<float> logits{0.1f, 3.0f, 2.9f, -1.0f, 0.0f};
  Sampler greedy({0.0f, 40, 0.95f, 1});
  EXPECT_EQ(greedy.sample(logits.data(), 5), 1);
  Sampler top1({1.0f, 1, 1.0f, 5});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(top1.sample(logits.data(), 5), 1);
  // top-p small enough keeps only the best token
  Sampler nucleus({1.0f, 0, 0.3f, 5});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(nucleus.sample(logits.data(), 5), 1);
  // top-k 2 only ever yields the two best; same seed, same sequence
  Sampler a({1.0f, 2, 1.0f, 42}), b({1.0f, 2, 1.0f, 42});
  int seen[5] = {};
  for (int i = 0; i < 200; ++i) {
    int x = a.sample(logits.data(), 5);
    EXPECT_EQ(x, b.sample(logits.data(), 5));
    seen[x]++;
  }
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  EXPECT_EQ(seen[0] + seen[3] + seen[4], 0);
}

}  // namespace
}  // namespace llmnpu
