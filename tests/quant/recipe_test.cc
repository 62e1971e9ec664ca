// Recipe choice from (fake) held-out measurements: the cheapest candidate matching the baseline within
// the budget, else the lowest-KL one that fits.
#include "quant/recipe.h"

#include <gtest/gtest.h>

namespace llmnpu::quant {
namespace {

RecipeCandidate measured(double tail, double share, double kl, size_t resident) {
  return {{tail, share}, true, kl, resident};
}

TEST(Recipe, PicksTheCheapestQualifyingCandidate) {
  const std::vector<RecipeCandidate> c = {measured(100, 0, 0.41, 10), measured(99.9, 0, 0.15, 10),
                                          measured(99, 0, 0.08, 10), measured(95, 0, 0.07, 10)};
  const RecipeDecision d = choose_recipe(c, 0.084, 100);
  EXPECT_EQ(d.index, 2u);
  EXPECT_TRUE(d.meets_baseline);
  // Equal to the baseline qualifies.
  EXPECT_EQ(choose_recipe(c, 0.15, 100).index, 1u);
  // The settings as given win when they already match it.
  EXPECT_EQ(choose_recipe(c, 0.5, 100).index, 0u);
}

TEST(Recipe, SkipsCandidatesOverBudgetOrNotMeasured) {
  std::vector<RecipeCandidate> c = {measured(100, 0, 0.41, 10),
                                    measured(99, 0.01, 0.05, 200),
                                    {{98, 0}, false, 0.0, 0},
                                    measured(95, 0, 0.07, 100)};
  const RecipeDecision d = choose_recipe(c, 0.084, 100);
  EXPECT_EQ(d.index, 3u);
  EXPECT_TRUE(d.meets_baseline);
}

TEST(Recipe, NoneQualifiesKeepsTheBestThatFits) {
  const std::vector<RecipeCandidate> c = {measured(100, 0, 0.41, 10), measured(99, 0, 0.11, 10),
                                          measured(95, 0, 0.09, 50), measured(95, 0.01, 0.05, 500)};
  const RecipeDecision d = choose_recipe(c, 0.084, 100);
  EXPECT_EQ(d.index, 2u);
  EXPECT_FALSE(d.meets_baseline);
  // Nothing fits: the settings as given.
  EXPECT_EQ(choose_recipe(c, 0.084, 5).index, 0u);
  EXPECT_FALSE(choose_recipe(c, 0.084, 5).meets_baseline);
}

TEST(Recipe, LadderGoesFromCheapToCostly) {
  const std::vector<Recipe> ladder = recipe_ladder();
  ASSERT_GE(ladder.size(), 4u);
  size_t first_weight = ladder.size();
  for (size_t i = 0; i < ladder.size(); ++i)
    if (ladder[i].weight_outlier_share > 0 && first_weight == ladder.size()) first_weight = i;
  ASSERT_GT(first_weight, 1u);
  for (size_t i = 1; i < first_weight; ++i)
    EXPECT_LT(ladder[i].tail_percentile, ladder[i - 1].tail_percentile) << i;
  for (size_t i = first_weight; i < ladder.size(); ++i) EXPECT_GT(ladder[i].weight_outlier_share, 0) << i;
  EXPECT_EQ((Recipe{99, 0.01}).name(), "tail-percentile 99 + weight-outliers 0.01");
  EXPECT_EQ((Recipe{100, 0}).name(), "no tail cap");
}

}  // namespace
}  // namespace llmnpu::quant
