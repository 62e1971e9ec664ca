// The `llmnpu` command end to end: synth -> run/perplexity/bench, and hostile input giving a one-line
// error with a non-zero exit.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/testdata.h"

namespace llmnpu {
namespace {

std::string llmnpu() { return test::llmnpu_binary(); }

// run_command merges stderr into the output; JSON is the last line of stdout.
nlohmann::json last_json_line(const std::string& out) {
  size_t end = out.find_last_not_of('\n');
  size_t begin = out.rfind('\n', end);
  return nlohmann::json::parse(out.substr(begin == std::string::npos ? 0 : begin + 1));
}

const std::string& tiny_model() {
  static const std::string path = [] {
    std::string p = test::temp_dir() + "/tiny-cli.gguf";
    std::string out;
    int rc = test::run_command(llmnpu() + " synth --shape tiny --outliers --seed 5 -o " + p, &out);
    EXPECT_EQ(rc, 0) << out;
    return p;
  }();
  return path;
}

void expect_one_line_error(const std::string& args, const std::string& needle) {
  std::string out;
  int rc = test::run_command(llmnpu() + " " + args, &out);
  EXPECT_NE(rc, 0) << args;
  EXPECT_EQ(out.rfind("error: ", 0), 0u) << args << "\n" << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "not one line: " << out;
  EXPECT_NE(out.find(needle), std::string::npos) << args << "\n" << out;
}

// A model the machine lacks the memory for is refused before loading, with one line naming both sizes
// and the way around it; run, prepare, bench and synth's in-memory hf writer alike.
TEST(RunCli, TooLittleMemoryIsAOneLineErrorBeforeLoading) {
  const std::string env = "LLMNPU_MEMORY_AVAILABLE=1M ";
  for (const std::string& args :
       {"run -m " + tiny_model() + " -p hi -n 1", "bench -m " + tiny_model() + " -p 8 -n 1 -r 1",
        "prepare -m " + tiny_model() + " --calib " + tiny_model() + " -o " + test::temp_dir() + "/never.gguf",
        "synth --shape tiny --format hf -o " + test::temp_dir() + "/never-hf"}) {
    std::string out;
    EXPECT_NE(test::run_command(env + llmnpu() + " " + args, &out), 0) << args;
    EXPECT_EQ(out.rfind("error: ", 0), 0u) << out;
    EXPECT_EQ(out.find('\n'), out.size() - 1) << "not one line: " << out;
    EXPECT_NE(out.find("needs about"), std::string::npos) << out;
    EXPECT_NE(out.find("1.0 MiB is available; --no-memory-check tries anyway"), std::string::npos) << out;
  }
  std::string out;
  EXPECT_EQ(
      test::run_command(env + llmnpu() + " run -m " + tiny_model() + " -p hi -n 1 --no-memory-check", &out),
      0)
      << out;
}

TEST(RunCli, ReferenceInterpreterGivesTheEnginesGreedyText) {
  const std::string cmd =
      llmnpu() + " run -m " + tiny_model() + " -p 'Once upon a time' -n 10 --temp 0 --json";
  std::string engine, reference;
  ASSERT_EQ(test::run_command(cmd, &engine), 0) << engine;
  ASSERT_EQ(test::run_command(cmd + " --reference", &reference), 0) << reference;
  auto je = last_json_line(engine), jr = last_json_line(reference);
  EXPECT_EQ(je["generated_ids"], jr["generated_ids"]);
  EXPECT_NE(jr["prefill"].get<std::string>().find("reference interpreter"), std::string::npos);
}

TEST(RunCli, GreedyJsonIsDeterministicAndTimed) {
  std::string a, b;
  std::string cmd = llmnpu() + " run -m " + tiny_model() + " -p 'Once upon a time' -n 12 --temp 0 --json";
  ASSERT_EQ(test::run_command(cmd, &a), 0) << a;
  ASSERT_EQ(test::run_command(cmd, &b), 0) << b;
  auto ja = last_json_line(a), jb = last_json_line(b);
  EXPECT_EQ(ja["generated_ids"], jb["generated_ids"]);
  EXPECT_EQ(ja["generated_ids"].size(), 12u);
  EXPECT_GT(ja["prompt_ids"].size(), 0u);
  EXPECT_GT(ja["timings"]["prompt_tokens_per_second"].get<double>(), 0.0);
  // The same prompt through a different schedule/topology gives the same greedy continuation.
  std::string c;
  ASSERT_EQ(
      test::run_command(llmnpu() + " run -m " + tiny_model() +
                            " -p 'Once upon a time' -n 12 --temp 0 --json --chunk 2 --schedule sequential "
                            "--topology hetero",
                        &c),
      0)
      << c;
  EXPECT_EQ(last_json_line(c)["generated_ids"], ja["generated_ids"]);
}

TEST(RunCli, SeededSamplingRepeats) {
  std::string a, b;
  std::string cmd = llmnpu() + " run -m " + tiny_model() + " -p 'Hello' -n 10 --seed 42 --temp 1.0 --json";
  ASSERT_EQ(test::run_command(cmd, &a), 0);
  ASSERT_EQ(test::run_command(cmd, &b), 0);
  EXPECT_EQ(last_json_line(a)["generated_ids"], last_json_line(b)["generated_ids"]);
}

TEST(RunCli, TraceFileIsChromeJson) {
  std::string trace = test::temp_dir() + "/trace.json", out;
  ASSERT_EQ(
      test::run_command(
          llmnpu() + " run -m " + tiny_model() + " -p 'abc def ghi' -n 2 --chunk 2 --trace " + trace, &out),
      0)
      << out;
  std::ifstream in(trace);
  auto j = nlohmann::json::parse(in);
  ASSERT_TRUE(j.contains("traceEvents"));
  int slices = 0;
  for (const auto& e : j["traceEvents"]) slices += e["ph"] == "X";
  EXPECT_GT(slices, 4 * 3);
  EXPECT_NE(out.find("busy"), std::string::npos) << out;
}

TEST(RunCli, PerplexityJsonScoresEveryToken) {
  std::string text = test::temp_dir() + "/text.txt", out;
  std::ofstream(text) << std::string(40, 'a') + " the quick brown fox jumps over the lazy dog. " +
                             std::string(400, 'x');
  ASSERT_EQ(
      test::run_command(llmnpu() + " perplexity -m " + tiny_model() + " -f " + text + " -c 32 --json", &out),
      0)
      << out;
  auto j = last_json_line(out);
  EXPECT_GT(j["perplexity"].get<double>(), 1.0);
  EXPECT_EQ(j["tokens"].size(), j["scored_tokens"].get<size_t>());
  EXPECT_GT(j["scored_tokens"].get<int>(), 0);
}

TEST(RunCli, BenchJson) {
  std::string out;
  ASSERT_EQ(test::run_command(
                llmnpu() + " bench -m " + tiny_model() + " -p 16,40 -n 4 -r 2 --chunk 16 -o json", &out),
            0)
      << out;
  auto j = last_json_line(out);
  // By default every length is measured on the built-in text and on pseudo-random ids.
  ASSERT_EQ(j["results"].size(), 4u);
  std::map<std::string, int> sources;
  for (const auto& r : j["results"]) {
    ++sources[r["prompt_source"].get<std::string>()];
    EXPECT_GT(r["prefill_tokens_per_second"].get<double>(), 0.0);
    // llama-bench's names for the same quantities.
    EXPECT_EQ(r["n_prompt"], r["prompt_tokens"]);
    EXPECT_EQ(r["n_gen"], 4);
    EXPECT_EQ(r["n_ubatch"], 16);
    EXPECT_EQ(r["n_threads"], r["threads"]);
    EXPECT_EQ(r["model_filename"], tiny_model());
    EXPECT_GT(r["model_size"].get<uint64_t>(), 0u);
    EXPECT_GT(r["model_n_params"].get<uint64_t>(), 0u);
    ASSERT_EQ(r["prefill_samples_ts"].size(), 2u);
    ASSERT_TRUE(r.contains("shadow"));
  }
  EXPECT_EQ(sources["text: built-in"], 2);
  EXPECT_EQ(sources["pseudo-random ids"], 2);
  EXPECT_GT(j["machine"]["peak_int8_gmacs"].get<double>(), 0.0);
}

TEST(RunCli, BenchJsonlIsLlamaBenchRecords) {
  std::string out;
  ASSERT_EQ(test::run_command(llmnpu() + " bench -m " + tiny_model() +
                                  " -p 24 -n 3 -r 2 --chunk 8 --prompts random -o jsonl 2>/dev/null",
                              &out),
            0)
      << out;
  std::vector<nlohmann::json> records;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 2u);  // pp24 and tg3
  EXPECT_EQ(records[0]["n_prompt"], 24);
  EXPECT_EQ(records[0]["n_gen"], 0);
  EXPECT_EQ(records[1]["n_prompt"], 0);
  EXPECT_EQ(records[1]["n_gen"], 3);
  for (const auto& r : records) {
    ASSERT_EQ(r["samples_ns"].size(), 2u);
    ASSERT_EQ(r["samples_ts"].size(), 2u);
    const int tokens = r["n_prompt"].get<int>() + r["n_gen"].get<int>();
    for (int i = 0; i < 2; ++i)
      EXPECT_NEAR(r["samples_ts"][i].get<double>(), tokens * 1e9 / r["samples_ns"][i].get<double>(),
                  1e-6 * r["samples_ts"][i].get<double>());
    EXPECT_NEAR(r["avg_ts"].get<double>(),
                (r["samples_ts"][0].get<double>() + r["samples_ts"][1].get<double>()) / 2, 1e-6);
    EXPECT_EQ(r["n_threads"].get<int>() > 0, true);
    EXPECT_EQ(r["model_filename"], tiny_model());
  }
}

TEST(RunCli, BenchTakesTextFromAFile) {
  const std::string file = test::temp_dir() + "/bench-prompt.txt";
  {
    std::ofstream f(file);
    f << "A short prompt about lighthouses, repeated to length.";
  }
  std::string out;
  ASSERT_EQ(test::run_command(llmnpu() + " bench -m " + tiny_model() + " -f " + file +
                                  " --prompts text -p 32 -n 1 -r 1 -o json",
                              &out),
            0)
      << out;
  auto j = last_json_line(out);
  ASSERT_EQ(j["results"].size(), 1u);
  EXPECT_EQ(j["results"][0]["prompt_source"], "text: " + file);
  std::string err;
  EXPECT_NE(
      test::run_command(llmnpu() + " bench -m " + tiny_model() + " -f " + file + " --prompts random", &err),
      0);
  EXPECT_NE(err.find("leaves text out"), std::string::npos) << err;
}

TEST(RunCli, BenchComparesTopologies) {
  std::string out;
  ASSERT_EQ(
      test::run_command(
          llmnpu() + " bench -m " + tiny_model() +
              " -p 24 -n 2 -r 1 --chunk 8 --topology all --schedule sequential,ooo --prompts random -o json",
          &out),
      0)
      << out;
  auto j = last_json_line(out);
  ASSERT_EQ(j["results"].size(), 4u);  // 2 topologies x 2 schedules
  for (const auto& r : j["results"]) EXPECT_GT(r["peak_memory_mib"].get<double>(), 0.0);
  ASSERT_EQ(j["topology_comparison"].size(), 2u);
  for (const auto& c : j["topology_comparison"]) {
    // Each comparison quotes the two measured rows of its schedule.
    double homo = -1, hetero = -1;
    for (const auto& r : j["results"]) {
      if (r["schedule"] != c["schedule"]) continue;
      const bool is_homo = r["topology"].get<std::string>().find("homogeneous") != std::string::npos;
      (is_homo ? homo : hetero) = r["prefill_tokens_per_second"].get<double>();
    }
    EXPECT_EQ(c["homogeneous_tokens_per_second"].get<double>(), homo);
    EXPECT_EQ(c["heterogeneous_tokens_per_second"].get<double>(), hetero);
    EXPECT_EQ(c["faster"], homo >= hetero ? "homogeneous" : "heterogeneous");
  }
}

TEST(RunCli, OneChunkPrefillWritesATraceToo) {
  const std::string trace = test::temp_dir() + "/one-chunk-trace.json";
  std::string out;
  ASSERT_EQ(test::run_command(llmnpu() + " run -m " + tiny_model() +
                                  " -p hello -n 2 --temp 0 --chunk 0 --trace " + trace + " 2>&1",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("all cores: busy"), std::string::npos) << out;
  std::ifstream in(trace);
  const auto j = nlohmann::json::parse(in);
  int slices = 0;
  for (const auto& e : j["traceEvents"]) slices += e["ph"] == "X";
  EXPECT_GT(slices, 0);
}

TEST(RunCli, HostileInputGivesOneLineErrors) {
  expect_one_line_error("run -m /nonexistent/model.gguf -p hi", "does not exist");
  std::string corrupt = test::temp_dir() + "/corrupt-model.gguf";
  std::ofstream(corrupt, std::ios::binary) << "GGUF\x03";
  expect_one_line_error("run -m " + corrupt + " -p hi", "truncated");
  std::string not_model = test::temp_dir() + "/notes.txt";
  std::ofstream(not_model) << "hello";
  expect_one_line_error("run -m " + not_model + " -p hi", "");
  expect_one_line_error("run -m " + tiny_model() + " -p \"$(printf 'abc\\377def')\"", "UTF-8");
  expect_one_line_error(
      "run -m " + tiny_model() + " -c 8 -p 'a long prompt that does not fit in eight tokens at all'",
      "context");
  expect_one_line_error("perplexity -m " + tiny_model() + " -f /nonexistent.txt", "cannot read");
  expect_one_line_error("synth --shape no-such-shape -o /tmp/x.gguf", "unknown synthetic shape");
  expect_one_line_error("no-such-command", "unknown command");
  // A truncated copy of a valid model.
  std::ifstream in(tiny_model(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string cut = test::temp_dir() + "/cut.gguf";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  expect_one_line_error("run -m " + cut + " -p hi", "truncated");
}

}  // namespace
}  // namespace llmnpu
