// Every number a user passes is bounded where it is parsed, and every bad input ends in one line
// "error: ..." with exit code 1 (the inputs of the hostile-input probe, one by one).
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/testdata.h"

namespace llmnpu {
namespace {

std::string llmnpu() { return test::llmnpu_binary(); }

const std::string& tiny_model() {
  static const std::string path = [] {
    std::string p = test::temp_dir() + "/tiny-bounds.gguf";
    std::string out;
    EXPECT_EQ(test::run_command(llmnpu() + " synth --shape tiny --layers 1 -o " + p, &out), 0) << out;
    return p;
  }();
  return path;
}

// Exit code 1, and the whole output is one line starting "error: " that contains `needle`.
void expect_error(const std::string& args, const std::string& needle) {
  std::string out;
  const int rc = test::run_command(llmnpu() + " " + args + " </dev/null", &out);
  EXPECT_EQ(rc, 1) << args << "\n" << out;
  EXPECT_EQ(out.rfind("error: ", 0), 0u) << args << "\n" << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "not one line: " << args << "\n" << out;
  EXPECT_NE(out.find(needle), std::string::npos) << args << "\n" << out;
}

TEST(BoundedFlags, NumbersOutOfRangeNameTheirRangeInWords) {
  const std::string run = "run -m " + tiny_model() + " -p hi ";
  expect_error(run + "-n -2", "-1 for until end of text");
  expect_error(run + "-c 4294967296", "from 0 to 1048576");
  expect_error(run + "--top-p 0", "above 0 up to 1");
  expect_error(run + "--temp -1", "from 0 to 100");
  expect_error(run + "--top-k -5", "from 0 to");
  expect_error(run + "--chunk 2147483647", "--chunk");
  expect_error(run + "-t 100000", "--threads");
  expect_error(run + "--npu-threads 100000", "--npu-threads");
  expect_error(run + "--no-such-flag", "not expected");
  expect_error("sim --shape tiny -p 2147483647 --chunk 1", "--prompt");
  expect_error("sim --shape tiny -p 1048576 --chunk 1", "use a longer --chunk");
  expect_error("inspect --graph -p 2147483647 --chunk 1 " + tiny_model(), "--n-prompt");
  expect_error("synth --layers 0 -o " + test::temp_dir() + "/never.gguf", "--layers");
  expect_error("bench -m " + tiny_model() + " -p 16,0", "prompt length");
  // No 300-digit ranges anywhere.
  std::string out;
  test::run_command(llmnpu() + " run -m " + tiny_model() + " -p hi -n -7", &out);
  EXPECT_EQ(out.find("e+308"), std::string::npos) << out;
}

TEST(BoundedFlags, FilesThatAreNotTextAreRefused) {
  expect_error("run -m " + tiny_model() + " -f " + test::temp_dir(), "is a folder");
  expect_error("tokenize -m " + tiny_model() + " -f " + test::temp_dir(), "is a folder");
  // bench checks its models before it measures the machine: the error is the only output.
  expect_error("bench -m " + test::temp_dir() + "/no-such-model.gguf", "does not exist");
  const std::string empty = test::temp_dir() + "/empty.txt";
  std::ofstream(empty).close();
  expect_error("perplexity -m " + tiny_model() + " -f " + empty, "fewer than one window");
}

TEST(BoundedFlags, MinusOneGeneratesUntilTheContextIsFullAndDashReadsStandardInput) {
  const std::string json = test::temp_dir() + "/minus-one.json";
  std::string out;
  ASSERT_EQ(test::run_command("(printf 'Once upon a time' | " + llmnpu() + " run -m " + tiny_model() +
                                  " -f - -n -1 -c 24 --temp 0 --json > " + json + ")",
                              &out),
            0)
      << out;
  std::ifstream in(json);
  const auto j = nlohmann::json::parse(in);
  const size_t prompt = j["prompt_ids"].size();
  ASSERT_GT(prompt, 1u);
  // Until end of text or a full context: never more than the context leaves.
  EXPECT_LE(prompt + j["generated_ids"].size(), 24u);
  EXPECT_GE(j["generated_ids"].size(), 1u);
}

TEST(BoundedFlags, StopStringsEndGeneration) {
  expect_error("run -m " + tiny_model() + " -p hi --stop ''", "stop string must not be empty");
  // Greedy text of the tiny model, then the same run stopped at a piece of it.
  const std::string json = test::temp_dir() + "/stop.json";
  auto run_json = [&](const std::string& extra) {
    std::string out;
    EXPECT_EQ(test::run_command("(" + llmnpu() + " run -m " + tiny_model() +
                                    " -p 'Once upon' -n 24 --temp 0 --json " + extra + " > " + json + ")",
                                &out),
              0)
        << out;
    std::ifstream in(json);
    return nlohmann::json::parse(in);
  };
  const auto full = run_json("");
  const std::string text = full["text"];
  ASSERT_GE(text.size(), 8u) << text;
  // Three letters from the middle of the text (plain ASCII, safe in a shell argument).
  size_t at = 2;
  while (at + 3 <= text.size() && !(std::isalpha(uint8_t(text[at])) && std::isalpha(uint8_t(text[at + 1])) &&
                                    std::isalpha(uint8_t(text[at + 2]))))
    ++at;
  ASSERT_LE(at + 3, text.size()) << text;
  const std::string stop = text.substr(at, 3);
  const auto stopped = run_json("--stop '" + stop + "'");
  EXPECT_EQ(stopped["stopped_by"], "stop string");
  EXPECT_EQ(stopped["text"], text.substr(0, text.find(stop)));
  EXPECT_LT(stopped["generated_ids"].size(), full["generated_ids"].size());
}

TEST(BoundedFlags, ErrorsEscapeControlBytesFromInput) {
  // A file name with an escape sequence and a newline is echoed escaped, on one line.
  const std::string dir = test::temp_dir() + "/esc";
  std::filesystem::create_directories(dir);
  expect_error("run -m \"$(printf '" + dir + "/\\033[2Jx\\ny.gguf')\" -p hi", "\\x1b[2Jx\\x0ay.gguf");
}

TEST(BoundedFlags, StatusLinesComeOnlyAfterTheInputsAreValid) {
  // The prompt does not fit the context: the error is the only output (no banner before it).
  expect_error("run -m " + tiny_model() + " -p \"$(printf 'word %.0s' $(seq 1 64))\" -c 16", "does not fit");
}

TEST(BoundedFlags, SyntheticModelsSayTheirTextIsNoise) {
  std::string out;
  ASSERT_EQ(test::run_command(llmnpu() + " run -m " + tiny_model() + " -p hi -n 2 --temp 0", &out), 0) << out;
  EXPECT_NE(out.find("random weights"), std::string::npos) << out;
}

}  // namespace
}  // namespace llmnpu
