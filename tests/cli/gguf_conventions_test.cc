// The GGUF files llmnpu writes follow llama.cpp's conventions: scripts/check_gguf.py, a checker written
// from llama.cpp's source (not from llmnpu's), accepts every synthetic shape as written by `synth` and
// after an HF round trip through `convert`, and rejects files llama.cpp would refuse.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/testdata.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "model/synth.h"

namespace llmnpu {
namespace {

std::string checker() { return std::string("python3 ") + LLMNPU_SOURCE_DIR + "/scripts/check_gguf.py"; }

// run_command appends to its output: each command here gets a fresh one.
int run(const std::string& command, std::string* out) {
  out->clear();
  return test::run_command(command, out);
}

bool have_python() {
  std::string version;
  return run("python3 --version", &version) == 0;
}

std::vector<std::string> tiny_shapes() {
  std::vector<std::string> names;
  for (const SynthShape& s : synth_shapes())
    if (s.name.rfind("tiny", 0) == 0) names.push_back(s.name);
  return names;
}

TEST(GgufConventions, SynthShapesPassTheChecker) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = test::temp_dir();
  std::vector<std::pair<std::string, std::string>> cases;  // file, synth arguments
  for (const std::string& name : tiny_shapes())
    cases.push_back({dir + "/" + name + ".gguf", "--shape " + name + " --outliers"});
  ASSERT_GE(cases.size(), 8u);
  // A real shape in Q8_0 with one layer: writes rope_freqs.weight (Llama 3 RoPE scaling).
  cases.push_back({dir + "/llama-3.2-1b.gguf", "--shape llama-3.2-1b --layers 1 --type q8_0"});
  std::string out;
  for (const auto& [file, args] : cases) {
    ASSERT_EQ(run(test::llmnpu_binary() + " synth " + args + " -o " + file, &out), 0) << out;
    EXPECT_EQ(run(checker() + " " + file, &out), 0) << out;
    EXPECT_EQ(out.rfind("ok: ", 0), 0u) << out;
  }
  std::remove((dir + "/llama-3.2-1b.gguf").c_str());
}

TEST(GgufConventions, HfRoundTripPassesTheChecker) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = test::temp_dir();
  std::string out;
  for (const std::string& name : tiny_shapes()) {
    const std::string hf = dir + "/hf-" + name, gguf = dir + "/rt-" + name + ".gguf";
    const std::string vocab = dir + "/rt-vocab-" + name + ".gguf";
    ASSERT_EQ(run(test::llmnpu_binary() + " synth --shape " + name + " --format hf -o " + hf, &out), 0)
        << out;
    // `synth --format hf` writes no tokenizer.json, and llama.cpp refuses a GGUF without
    // tokenizer.ggml.model: give convert the synthetic tokenizer explicitly.
    ASSERT_EQ(run(test::llmnpu_binary() + " synth --shape " + name + " -o " + vocab, &out), 0) << out;
    ASSERT_EQ(
        run(test::llmnpu_binary() + " convert -m " + hf + " --tokenizer " + vocab + " -o " + gguf, &out), 0)
        << out;
    EXPECT_EQ(run(checker() + " " + gguf, &out), 0) << name << ": " << out;
  }
}

// Copies SRC to DST through GgufFile + GgufWriter, with one key replaced and tensors dropped or added.
void rewrite(const std::string& src, const std::string& dst, const std::string& key, const GgufValue* value,
             const std::set<std::string>& drop, bool add_extra_tensor) {
  GgufFile in(src);
  GgufWriter w;
  for (const auto& [k, v] : in.metadata()) w.set(k, v);
  if (value) w.set(key, *value);
  for (const GgufTensor& t : in.tensors())
    if (!drop.count(t.name)) w.add_tensor(t.name, t.type, t.dims, t.data, t.nbytes);
  if (add_extra_tensor)
    w.add_tensor_owned("blk.0.not_a_llama_cpp_tensor.weight", GgmlType::F32, {16},
                       std::vector<uint8_t>(16 * sizeof(float), 0));
  w.write(dst);  // `in` (and the tensor bytes it maps) stays alive until here
}

TEST(GgufConventions, CheckerRejectsWhatLlamaCppRefuses) {
  if (!have_python()) GTEST_SKIP() << "python3 is not installed";
  const std::string dir = test::temp_dir();
  const std::string src = dir + "/reject-src.gguf";
  std::string out;
  ASSERT_EQ(run(test::llmnpu_binary() + " synth --shape tiny -o " + src, &out), 0) << out;
  // An unchanged copy passes: the failures below come from the one change each.
  rewrite(src, dir + "/copy.gguf", "", nullptr, {}, false);
  EXPECT_EQ(run(checker() + " " + dir + "/copy.gguf", &out), 0) << out;

  const GgufValue llama3 = GgufValue::of_string("llama3");  // not a llama.cpp rope scaling type
  rewrite(src, dir + "/llama3.gguf", "llama.rope.scaling.type", &llama3, {}, false);
  EXPECT_NE(run(checker() + " " + dir + "/llama3.gguf", &out), 0) << out;
  EXPECT_NE(out.find("rope.scaling.type"), std::string::npos) << out;

  rewrite(src, dir + "/extra.gguf", "", nullptr, {}, true);
  EXPECT_NE(run(checker() + " " + dir + "/extra.gguf", &out), 0) << out;
  EXPECT_NE(out.find("blk.0.not_a_llama_cpp_tensor.weight"), std::string::npos) << out;

  rewrite(src, dir + "/no-ffn-down.gguf", "", nullptr, {"blk.0.ffn_down.weight"}, false);
  EXPECT_NE(run(checker() + " " + dir + "/no-ffn-down.gguf", &out), 0) << out;
  EXPECT_NE(out.find("missing tensor blk.0.ffn_down.weight"), std::string::npos) << out;
}

}  // namespace
}  // namespace llmnpu
