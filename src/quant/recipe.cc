#include "quant/recipe.h"

#include "core/error.h"

namespace llmnpu::quant {

std::string Recipe::name() const {
  std::string s = tail_percentile < 100 ? str("tail-percentile ", tail_percentile) : "no tail cap";
  if (weight_outlier_share > 0) s += str(" + weight-outliers ", weight_outlier_share);
  return s;
}

std::vector<Recipe> recipe_ladder() {
  std::vector<Recipe> ladder;
  for (double tail : {99.9, 99.5, 99.0, 98.0, 97.0, 96.0, 95.0, 93.0, 90.0}) ladder.push_back({tail, 0});
  for (double share : {0.001, 0.003, 0.01}) ladder.push_back({99.0, share});
  ladder.push_back({95.0, 0.01});
  return ladder;
}

RecipeDecision choose_recipe(const std::vector<RecipeCandidate>& candidates, double target_kl,
                             size_t budget_bytes) {
  check(!candidates.empty(), "no recipe candidates to choose from");
  for (size_t i = 0; i < candidates.size(); ++i) {
    const RecipeCandidate& c = candidates[i];
    if (c.measured && c.resident_bytes <= budget_bytes && c.mean_kl <= target_kl) return {i, true};
  }
  RecipeDecision best;
  bool found = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const RecipeCandidate& c = candidates[i];
    if (!c.measured || c.resident_bytes > budget_bytes) continue;
    if (!found || c.mean_kl < candidates[best.index].mean_kl) best.index = i;
    found = true;
  }
  return best;
}

}  // namespace llmnpu::quant
