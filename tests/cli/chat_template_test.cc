// A model's chat template is kept through convert (HF -> GGUF -> HF) and prepare.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/testdata.h"
#include "format/gguf.h"

namespace llmnpu {
namespace {

TEST(ChatTemplateCli, KeptThroughConvertAndPrepare) {
  const std::string bin = test::llmnpu_binary(), dir = test::temp_dir() + "/chat-cli";
  const std::string tmpl = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}";
  std::string out;
  ASSERT_EQ(test::run_command(bin + " synth --shape tiny --layers 1 --format hf -o " + dir + "/hf", &out), 0)
      << out;
  {
    std::ifstream in(dir + "/hf/tokenizer_config.json");
    nlohmann::json config = nlohmann::json::parse(in);
    config["chat_template"] = tmpl;
    std::ofstream(dir + "/hf/tokenizer_config.json", std::ios::trunc) << config.dump(1);
  }
  ASSERT_EQ(test::run_command(bin + " convert -m " + dir + "/hf -o " + dir + "/m.gguf", &out), 0) << out;
  EXPECT_EQ(GgufFile(dir + "/m.gguf").get_string("tokenizer.chat_template", ""), tmpl);
  ASSERT_EQ(test::run_command(bin + " convert -m " + dir + "/m.gguf --format hf -o " + dir + "/back", &out),
            0)
      << out;
  std::ifstream in(dir + "/back/tokenizer_config.json");
  EXPECT_EQ(nlohmann::json::parse(in)["chat_template"], tmpl);
  std::ofstream(dir + "/calib.txt") << "Once upon a time there was a little girl who lived in a small house.";
  ASSERT_EQ(test::run_command(bin + " prepare -m " + dir + "/m.gguf --calib " + dir +
                                  "/calib.txt --calib-tokens 32 --calib-window 16 --prune-tokens 8 -o " +
                                  dir + "/m.w8a8.gguf",
                              &out),
            0)
      << out;
  EXPECT_EQ(GgufFile(dir + "/m.w8a8.gguf").get_string("tokenizer.chat_template", ""), tmpl);
}

}  // namespace
}  // namespace llmnpu
