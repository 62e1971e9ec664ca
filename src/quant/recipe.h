#pragma once
// Automatic recipe choice for `llmnpu prepare --recipe auto`. A recipe is an activation tail cap and a
// weight-outlier share on top of the user's settings. Small models without massive-activation channels
// (stories260K) lose to a per-block-32 dynamic int8 baseline with the default static per-tensor scale;
// lowering the clip (more elements to the shadow path) and taking weight outliers fixes that at a cost
// in host work and resident memory. `prepare` measures candidates on held-out text in increasing cost
// order and keeps the cheapest one that matches the baseline within the resident budget.
#include <cstddef>
#include <string>
#include <vector>

namespace llmnpu::quant {

struct Recipe {
  double tail_percentile = 100;     // activation clip at most this percentile of |x| (100: no cap)
  double weight_outlier_share = 0;  // share of each weight row kept as sparse float
  std::string name() const;         // "tail-percentile 99 + weight-outliers 0.01", "no tail cap"
};

// The candidates tried after the user's setting when it loses to the baseline, cheapest first: tail caps
// from 99.9 down to 90 (each step puts more activation elements on the shadow path), then weight outliers
// (12 resident bytes each, so a share s costs about 12 s of the int8 weight bytes: only a budget larger
// than the 1% default admits them). Chosen from measurements on stories260K, docs/quantization.md.
std::vector<Recipe> recipe_ladder();

struct RecipeCandidate {
  Recipe recipe;
  bool measured = false;      // false: skipped (over budget, or the search stopped before it)
  double mean_kl = 0;         // held-out mean KL(float || prepared)
  size_t resident_bytes = 0;  // after the budget cut
};

struct RecipeDecision {
  size_t index = 0;             // into the candidates
  bool meets_baseline = false;  // its KL <= the baseline's and it fits the budget
};

// candidates are in increasing cost order, [0] being the user's setting. The first measured one with
// mean_kl <= target_kl (prepare: the baseline's held-out KL x --recipe-margin) and resident_bytes <=
// budget_bytes; when none qualifies, the lowest-KL measured one that fits; when none fits either, 0.
RecipeDecision choose_recipe(const std::vector<RecipeCandidate>& candidates, double target_kl,
                             size_t budget_bytes);

}  // namespace llmnpu::quant
