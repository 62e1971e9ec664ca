// llmnpu chat end to end: the model's template shapes the prompt, the KV cache carries over between
// turns (later turns prefill only their new tokens), /reset starts over, bad templates are one-line errors.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "common/testdata.h"

namespace llmnpu {
namespace {

TEST(ChatCli, KeepsTheCacheBetweenTurnsAndResets) {
  const std::string bin = test::llmnpu_binary(), dir = test::temp_dir() + "/chat";
  std::string out;
  ASSERT_EQ(test::run_command(bin + " synth --shape tiny --layers 2 --seed 3 -o " + dir + ".gguf", &out), 0)
      << out;
  std::ofstream(dir + "-input.txt") << "Hello there\nand a second \\\nline\n/reset\nOnce more\n";
  ASSERT_EQ(
      test::run_command(
          bin + " chat -m " + dir + ".gguf --temp 0 -n 5 --system 'Be brief.' < " + dir + "-input.txt", &out),
      0)
      << out;
  EXPECT_NE(out.find("chat template: ChatML (the model carries none)"), std::string::npos) << out;
  // Three turns; the second reuses the first turn's cache, the third (after /reset) reuses nothing.
  std::vector<std::array<int, 3>> turns;
  for (size_t at = out.find("[prompt "); at != std::string::npos; at = out.find("[prompt ", at + 1)) {
    std::array<int, 3> t{};
    if (std::sscanf(out.c_str() + at, "[prompt %d tokens: %d from the KV cache, %d prefilled", &t[0], &t[1],
                    &t[2]) == 3)
      turns.push_back(t);
  }
  ASSERT_EQ(turns.size(), 3u) << out;
  EXPECT_EQ(turns[0][1], 0);
  EXPECT_GT(turns[1][1], turns[0][0]);  // the whole first prompt and most of the reply came from the cache
  EXPECT_LT(turns[1][2], turns[1][0] - turns[0][0]);
  EXPECT_EQ(turns[2][1], 0);
  EXPECT_NE(out.find("(new conversation)"), std::string::npos);
  EXPECT_NE(out.find("KV cache reuse:"), std::string::npos);
}

TEST(ChatCli, TemplateErrorsAreReportedAndTheChatGoesOn) {
  const std::string bin = test::llmnpu_binary(), dir = test::temp_dir() + "/chat-errors";
  std::string out;
  ASSERT_EQ(test::run_command(bin + " synth --shape tiny --layers 1 -o " + dir + ".gguf", &out), 0) << out;
  // A template that refuses a user turn containing "forbidden" (as templates refuse bad role orders).
  std::ofstream(dir + ".jinja")
      << "{% for m in messages %}{% if 'forbidden' in m.content %}{{ raise_exception('no forbidden words') }}"
         "{% endif %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>";
  std::ofstream(dir + "-input.txt") << "a forbidden word\nfine\n";
  ASSERT_EQ(test::run_command(bin + " chat -m " + dir + ".gguf --temp 0 -n 3 --chat-template-file " + dir +
                                  ".jinja < " + dir + "-input.txt",
                              &out),
            0)
      << out;
  EXPECT_NE(out.find("error: chat template raised an error: no forbidden words"), std::string::npos) << out;
  EXPECT_NE(out.find("[prompt "), std::string::npos) << out;  // the second message was answered

  std::ofstream(dir + "-bad.jinja") << "{% for m in messages %}";
  std::string bad;
  ASSERT_NE(
      test::run_command(
          bin + " chat -m " + dir + ".gguf --chat-template-file " + dir + "-bad.jinja < /dev/null", &bad),
      0);
  EXPECT_EQ(bad.rfind("error: chat template", 0), 0u) << bad;
  EXPECT_EQ(bad.find('\n'), bad.size() - 1) << bad;
}

}  // namespace
}  // namespace llmnpu
