// `llmnpu prepare`: the resident budget holds in the written file, and --recipe auto records a recipe
// that reached its held-out target (stories260K) or keeps the settings as given (tiny outlier model).
#include <gtest/gtest.h>

#include "common/testdata.h"
#include "format/gguf.h"

namespace llmnpu {
namespace {

std::string cmd(const std::string& args) { return test::llmnpu_binary() + " " + args; }

// run_command appends to its output: each command here gets a fresh one.
int run(const std::string& args, std::string* out) {
  out->clear();
  return test::run_command(cmd(args), out);
}

// Resident shadow bytes and int8 weight bytes as stored: hot rows (F16) + 12 bytes per weight outlier.
std::pair<size_t, size_t> resident_and_int8_bytes(const GgufFile& f) {
  size_t resident = 0, int8 = 0;
  for (const GgufTensor& t : f.tensors()) {
    const std::string& n = t.name;
    auto ends = [&](const std::string& s) {
      return n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (ends(".hot_rows")) resident += t.nbytes;
    if (ends(".weight_outlier_value")) resident += t.nbytes * 3;
    if (ends(".weight") && t.type == GgmlType::I8) int8 += t.nbytes;
  }
  return {resident, int8};
}

TEST(PrepareCli, ResidentBudgetHoldsOnTinyOutlierModel) {
  LLMNPU_REQUIRE_SHARED("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  const std::string text = test::shared_path("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  const std::string dir = test::temp_dir();
  std::string out;
  ASSERT_EQ(run("synth --shape tiny --outliers --seed 1 -o " + dir + "/t.gguf", &out), 0) << out;
  for (double budget : {0.01, 0.003}) {
    const std::string prep = dir + "/t.prep.gguf";
    ASSERT_EQ(run("prepare -m " + dir + "/t.gguf --calib " + text +
                      " --calib-tokens 1024 --prune-tokens 256 -t 1 --resident-budget " +
                      std::to_string(budget) + " -o " + prep,
                  &out),
              0)
        << out;
    EXPECT_NE(out.find("resident budget"), std::string::npos) << out;
    EXPECT_NE(out.find("hot channels made cold"), std::string::npos) << out;
    GgufFile f(prep);
    const auto [resident, int8] = resident_and_int8_bytes(f);
    EXPECT_GT(resident, 0u) << budget;
    EXPECT_LE(double(resident), budget * double(int8)) << budget;
    EXPECT_FLOAT_EQ(float(f.get_float("llmnpu.prepared.resident_budget", -1)), float(budget));
    // The planted outliers are what the default scale handles: no recipe search needed.
    EXPECT_EQ(f.get_string("llmnpu.prepared.recipe", ""), "default");
    EXPECT_EQ(f.get_string("llmnpu.prepared.recipe_mode", ""), "auto");
    EXPECT_LE(f.get_float("llmnpu.prepared.heldout_mean_kl", 1),
              f.get_float("llmnpu.prepared.heldout_baseline_kl", 0));
  }
}

TEST(PrepareCli, RecipeAutoLowersTheClipOnStories260K) {
  LLMNPU_REQUIRE_SHARED("testdata/models/stories260K/stories260K.bin");
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/tok512/tok512.bin");
  LLMNPU_REQUIRE_SHARED("testdata/eval/tinystories/tinystories_validation_head.txt");
  const std::string model = "-m " + test::shared_path("testdata/models/stories260K/stories260K.bin") +
                            " --tokenizer " + test::shared_path("testdata/tokenizers/tok512/tok512.bin");
  const std::string text = test::shared_path("testdata/eval/tinystories/tinystories_validation_head.txt");
  const std::string dir = test::temp_dir();
  std::string out;
  ASSERT_EQ(
      run("prepare " + model + " --calib " + text + " --calib-tokens 2048 -t 1 -o " + dir + "/a.gguf", &out),
      0)
      << out;
  EXPECT_NE(out.find("recipe candidates"), std::string::npos) << out;
  GgufFile a(dir + "/a.gguf");
  const std::string recipe = a.get_string("llmnpu.prepared.recipe", "");
  EXPECT_EQ(recipe.rfind("tail-percentile ", 0), 0u) << recipe;
  EXPECT_LT(a.get_float("llmnpu.prepared.tail_percentile", 100), 100.0);
  const double kl = a.get_float("llmnpu.prepared.heldout_mean_kl", -1),
               base = a.get_float("llmnpu.prepared.heldout_baseline_kl", -1);
  EXPECT_GT(kl, 0.0);
  EXPECT_LE(kl, 0.95 * base * (1 + 1e-6));
  const auto [resident, int8] = resident_and_int8_bytes(a);
  EXPECT_LE(double(resident), 0.01 * double(int8));

  // --recipe default keeps the settings as given.
  ASSERT_EQ(run("prepare " + model + " --calib " + text +
                    " --calib-tokens 2048 -t 1 --recipe default --prune 0 -o " + dir + "/d.gguf",
                &out),
            0)
      << out;
  EXPECT_EQ(out.find("recipe candidates"), std::string::npos) << out;
  GgufFile d(dir + "/d.gguf");
  EXPECT_EQ(d.get_string("llmnpu.prepared.recipe", ""), "default");
  EXPECT_EQ(d.get_string("llmnpu.prepared.recipe_mode", ""), "default");
  EXPECT_FLOAT_EQ(float(d.get_float("llmnpu.prepared.tail_percentile", 0)), 100.0f);
  EXPECT_FLOAT_EQ(float(d.get_float("llmnpu.prepared.heldout_mean_kl", 0)), -1.0f);

  EXPECT_NE(test::run_command(
                cmd("prepare " + model + " --calib " + text + " --recipe best -o " + dir + "/x.gguf"), &out),
            0);
  EXPECT_NE(out.find("--recipe must be auto or default"), std::string::npos) << out;
}

}  // namespace
}  // namespace llmnpu
