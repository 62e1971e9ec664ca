// End to end through the command line: synth -> prepare -> eval (KL targets), run on a prepared file,
// and multiple-choice scoring checked against log-probabilities computed here.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "backend/float_graph.h"
#include "common/testdata.h"
#include "model/loader.h"
#include "runtime/engine.h"
#include "runtime/perplexity.h"

namespace llmnpu {
namespace {

std::string cmd(const std::string& args) { return test::llmnpu_binary() + " " + args; }

nlohmann::json run_json(const std::string& args) {
  std::string out;
  EXPECT_EQ(test::run_command(cmd(args) + " 2>/dev/null", &out), 0) << out;
  return nlohmann::json::parse(out);
}

TEST(PrepareCommand, DefaultBeatsBaselinesOnTinyOutlierModel) {
  LLMNPU_REQUIRE_SHARED("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  const std::string text = test::shared_path("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  const std::string dir = test::temp_dir();
  std::string out;
  ASSERT_EQ(test::run_command(cmd("synth --shape tiny --outliers --seed 1 -o " + dir + "/t.gguf"), &out), 0)
      << out;
  ASSERT_EQ(test::run_command(cmd("prepare -m " + dir + "/t.gguf --calib " + text +
                                  " --calib-tokens 2048 -o " + dir + "/t.prep.gguf"),
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("resident shadow rows"), std::string::npos) << out;
  const auto j = run_json("eval --ref " + dir + "/t.gguf " + dir + "/t.prep.gguf -f " + text +
                          " --tokens 1024 --ablations --json");
  const auto& r = j["results"];
  ASSERT_EQ(r.size(), 4u);
  const double def = r[0]["mean_kl"], no_shadow = r[1]["mean_kl"], all = r[2]["mean_kl"],
               q8 = r[3]["mean_kl"];
  EXPECT_GT(no_shadow, 0.0);
  EXPECT_LE(def, q8);
  EXPECT_LE(def, no_shadow / 10);
  EXPECT_LE(all, no_shadow / 10);
  EXPECT_GE(double(r[0]["top1_agreement"]), 0.99);

  // A prepared file runs through `run` and `perplexity` too.
  ASSERT_EQ(test::run_command(cmd("run -m " + dir + "/t.prep.gguf -p Hello -n 4 --seed 1"), &out), 0) << out;
  ASSERT_EQ(
      test::run_command(cmd("perplexity -m " + dir + "/t.prep.gguf -f " + text + " --chunks 1 -c 64"), &out),
      0)
      << out;
  EXPECT_NE(out.find("w8a8"), std::string::npos) << out;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(PrepareCommand, StreamedWeightsGiveTheSameFileAsConvertedOnes) {
  // F16 and Q8_0 sources: matrices decoded a block of rows at a time where used (the default) against the
  // whole model converted to fp32 at load. The calibration, the quantization and the held-out choices see
  // the same numbers, so the files are byte-identical.
  LLMNPU_REQUIRE_SHARED("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  const std::string text = test::shared_path("testdata/eval/wikitext-2-raw/wiki.test.lf.raw");
  const std::string dir = test::temp_dir();
  for (const std::string type : {"f16", "q8_0"}) {
    std::string out;
    const std::string model = dir + "/m." + type + ".gguf";
    ASSERT_EQ(test::run_command(cmd("synth --shape tiny --outliers --seed 3 --type " + type + " -o " + model),
                                &out),
              0)
        << out;
    const std::string common =
        "prepare -m " + model + " --calib " + text + " --calib-tokens 512 --prune-tokens 256 ";
    ASSERT_EQ(test::run_command(cmd(common + "-o " + dir + "/streamed.gguf"), &out), 0) << out;
    ASSERT_EQ(test::run_command(cmd(common + "--convert-at-load -o " + dir + "/converted.gguf"), &out), 0)
        << out;
    const std::string streamed = file_bytes(dir + "/streamed.gguf");
    EXPECT_GT(streamed.size(), 100000u);
    EXPECT_TRUE(streamed == file_bytes(dir + "/converted.gguf")) << type;
  }
}

TEST(EvalCommand, HellaswagScoringMatchesSummedLogprobs) {
  const std::string dir = test::temp_dir();
  std::string out;
  ASSERT_EQ(test::run_command(cmd("synth --shape tiny --seed 2 -o " + dir + "/m.gguf"), &out), 0) << out;
  const std::string file = dir + "/hs.txt";
  {
    std::ofstream f(file);
    f << "A man is sitting on a roof. he\n3\nis using wrap.\nis ripping tiles off.\nholds a cube.\nstarts "
         "pulling "
         "up roofing.\n";
    f << "The cat\n0\nsat on the mat.\nflew away quickly over the hills.\nis blue.\nate.\n";
    f << "Water boils at\n1\nten degrees.\none hundred degrees.\nnever.\nthe moon.\n";
  }
  const auto j = run_json("eval hellaswag -m " + dir + "/m.gguf -f " + file + " --json -c 128");
  ASSERT_EQ(j["tasks"], 3);

  auto model = load_model(dir + "/m.gguf");
  ModelGraph g = build_float_graph(*model);
  EngineOptions eo;
  eo.context = 128;
  eo.threads = 1;
  Engine e(*model, g, eo);
  const Tokenizer& tok = *model->tokenizer;
  const int32_t bos = tok.adds_bos() ? tok.bos_id() : -1;
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  int correct = 0;
  for (int t = 0; t < 3; ++t) {
    std::vector<int32_t> ctx = tok.encode(lines[size_t(t) * 6], false);
    if (bos >= 0) ctx.insert(ctx.begin(), bos);
    std::vector<double> sums;
    for (int k = 0; k < 4; ++k) {
      std::vector<int32_t> full =
          tok.encode(lines[size_t(t) * 6] + " " + lines[size_t(t) * 6 + 2 + size_t(k)], false);
      if (bos >= 0) full.insert(full.begin(), bos);
      size_t common = 0;
      while (common < ctx.size() && ctx[common] == full[common]) ++common;
      common = std::max<size_t>(common, 1);
      // Score token by token: the logits of position i come from a prefill of tokens 0..i.
      double sum = 0;
      for (size_t i = common; i < full.size(); ++i) {
        e.reset();
        std::vector<int32_t> prefix(full.begin(), full.begin() + long(i));
        std::vector<float> logits = e.prefill(prefix);
        sum += token_logprob(logits.data(), model->config.vocab_size, full[i]);
      }
      sums.push_back(sum);
      EXPECT_NEAR(double(j["items"][size_t(t)]["logprob_sums"][size_t(k)]), sum, 1e-3 * (1 + std::fabs(sum)));
    }
    const int best = int(std::max_element(sums.begin(), sums.end()) - sums.begin());
    EXPECT_EQ(j["items"][size_t(t)]["chosen"], best);
    correct += best == int(lines[size_t(t) * 6 + 1][0] - '0') ? 1 : 0;
  }
  EXPECT_EQ(j["correct"], correct);
}

TEST(EvalCommand, OpenBookQaParsesAndScores) {
  const std::string dir = test::temp_dir();
  std::string out;
  ASSERT_EQ(test::run_command(cmd("synth --shape tiny --seed 2 -o " + dir + "/m.gguf"), &out), 0) << out;
  const std::string file = dir + "/obqa.tsv";
  {
    std::ofstream f(file);
    f << "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n";
    f << "1-1\tThe sun is a\t(A) star (B) planet (C) moon (D) rock\tx\tA\n";
    f << "1-2\tIce is\t(A) hot (B) cold water (C) gas (D) fire\tx\tB\n";
  }
  const auto j = run_json("eval openbookqa -m " + dir + "/m.gguf -f " + file + " --json");
  EXPECT_EQ(j["tasks"], 2);
  EXPECT_EQ(j["items"].size(), 2u);
  // A malformed row is an error with a message, not a crash.
  {
    std::ofstream f(file);
    f << "1-1\tThe sun is a\t(A) star (B) planet\tx\tA\n";
  }
  EXPECT_NE(test::run_command(cmd("eval openbookqa -m " + dir + "/m.gguf -f " + file), &out), 0);
  EXPECT_NE(out.find("choice (C)"), std::string::npos) << out;
}

}  // namespace
}  // namespace llmnpu
