// The `llmnpu tokenize` subcommand, end to end.
#include <gtest/gtest.h>

#include "common/testdata.h"

namespace llmnpu {
namespace {

TEST(TokenizeCommand, PrintsIdsAndJson) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/llama2/tokenizer.bin");
  std::string bin = test::llmnpu_binary();
  std::string model = test::shared_path("testdata/tokenizers/llama2/tokenizer.bin");
  std::string out;
  ASSERT_EQ(test::run_command(bin + " tokenize -m '" + model + "' -p 'Hello world'", &out), 0) << out;
  EXPECT_EQ(out, "1 15043 3186\n");
  std::string json;
  ASSERT_EQ(test::run_command(bin + " tokenize -m '" + model + "' -p 'Hello world' --no-bos --json", &json),
            0);
  EXPECT_EQ(json, "{\"ids\":[15043,3186],\"pieces\":[\"\xE2\x96\x81Hello\",\"\xE2\x96\x81world\"]}\n");
  std::string error;
  EXPECT_NE(test::run_command(bin + " tokenize -m '" + model + "' -p \"$(printf '\\377')\"", &error), 0);
  EXPECT_NE(error.find("input is not valid UTF-8 at byte 0"), std::string::npos) << error;
}

}  // namespace
}  // namespace llmnpu
