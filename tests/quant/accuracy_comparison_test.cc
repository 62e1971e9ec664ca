// The held-out comparison (prepare/accuracy.h): walking windows in lockstep or whole, and scoring a
// chunk's positions on one thread or several, give the same numbers.
#include <gtest/gtest.h>

#include <random>

#include "backend/float_graph.h"
#include "backend/q8_block_linear.h"
#include "model/synth.h"
#include "prepare/accuracy.h"
#include "runtime/engine.h"
#include "tokenizer/vocab.h"

namespace llmnpu {
namespace {

std::vector<AccuracyResult> compare(const Model& model, int threads, ComparisonOrder order,
                                    const std::vector<int32_t>& tokens, int window) {
  ModelGraph float_graph = build_float_graph(model);
  ModelGraph q8_graph = build_q8_block_graph(model);
  Engine reference(model, float_graph, {threads, window, nullptr});
  Engine again(model, float_graph, {threads, window, nullptr});
  Engine q8(model, q8_graph, {threads, window, nullptr});
  return compare_to_reference(reference, {{"float again", &again, nullptr}, {"q8", &q8, nullptr}}, tokens,
                              window, 1, nullptr, order);
}

TEST(AccuracyComparison, OrderAndThreadsLeaveTheNumbersAlone) {
  SynthOptions o;
  o.shape = "tiny";
  o.outliers = true;
  o.seed = 3;
  const auto model = synthesize_model(o, builtin_byte_vocab());
  std::mt19937 rng(9);
  std::vector<int32_t> tokens(420);
  for (int32_t& t : tokens) t = int32_t(rng() % uint32_t(model->config.vocab_size));
  // Windows of 300 positions: chunks of 128, 128 and 44 in either order; the last window is shorter.
  const int window = 300;
  const auto base = compare(*model, 1, ComparisonOrder::Lockstep, tokens, window);
  ASSERT_EQ(base.size(), 2u);
  EXPECT_LT(base[0].mean_kl, 1e-7);  // the float model against itself (the reference is held in fp32)
  EXPECT_GT(base[1].mean_kl, 100 * base[0].mean_kl);
  EXPECT_EQ(base[1].tokens, int(tokens.size()));
  for (const auto& [threads, order] :
       {std::pair{1, ComparisonOrder::WholeWindows}, std::pair{2, ComparisonOrder::Lockstep},
        std::pair{2, ComparisonOrder::WholeWindows}, std::pair{2, ComparisonOrder::Smaller}}) {
    const auto r = compare(*model, threads, order, tokens, window);
    ASSERT_EQ(r.size(), base.size());
    for (size_t v = 0; v < r.size(); ++v) {
      EXPECT_EQ(r[v].tokens, base[v].tokens) << threads << " threads";
      EXPECT_EQ(r[v].mean_kl, base[v].mean_kl) << r[v].name << ", " << threads << " threads";
      EXPECT_EQ(r[v].max_kl, base[v].max_kl) << r[v].name;
      EXPECT_EQ(r[v].top1_agreement, base[v].top1_agreement) << r[v].name;
      EXPECT_EQ(r[v].ppl, base[v].ppl) << r[v].name;
      EXPECT_EQ(r[v].ppl_ref, base[v].ppl_ref) << r[v].name;
    }
  }
}

}  // namespace
}  // namespace llmnpu
