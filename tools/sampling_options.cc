#include "sampling_options.h"

#include <chrono>

#include "flags.h"

namespace llmnpu::cli {

void SamplingOptions::add_to(CLI::App& app) {
  app.add_option("--temp", temperature, "temperature; 0 = greedy (default 0.8)")
      ->check(number_in(0.0, 100.0));
  app.add_option("--top-k", top_k, "top-k cut, 0 = off (default 40)")->check(integer_in(0, int64_t(1) << 24));
  app.add_option("--top-p", top_p, "nucleus cut, 1 = off (default 0.95)")->check(number_in(0.0, 1.0, true));
  seed_option = app.add_option("--seed", seed, "sampling seed (default: random, printed)");
}

void SamplingOptions::choose_seed() {
  if (seed_option == nullptr || seed_option->count() == 0)
    seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace llmnpu::cli
