#include <gtest/gtest.h>

#include <fstream>

#include "common/testdata.h"

namespace llmnpu {
namespace {

TEST(InspectCli, CorruptFileGivesOneLineError) {
  const std::string path = test::temp_dir() + "/corrupt.gguf";
  std::ofstream(path, std::ios::binary) << std::string("GGUF\x03\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff", 16);
  std::string out;
  int rc = test::run_command(test::llmnpu_binary() + " inspect " + path, &out);
  EXPECT_NE(rc, 0);
  EXPECT_EQ(out.rfind("error: ", 0), 0u) << out;
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;  // exactly one line
}

TEST(InspectCli, Stories260KTableAndJson) {
  LLMNPU_REQUIRE_SHARED("testdata/models/stories260K/stories260K.bin");
  const std::string model = test::shared_path("testdata/models/stories260K/stories260K.bin");
  std::string out;
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " inspect " + model, &out), 0) << out;
  EXPECT_NE(out.find("format:    llama2c"), std::string::npos) << out;
  EXPECT_NE(out.find("n_kv_heads             4"), std::string::npos) << out;
  EXPECT_NE(out.find("wq[4]"), std::string::npos) << out;
  std::string json;
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " inspect --json " + model, &json), 0) << json;
  EXPECT_NE(json.find("\"vocab_size\": 512"), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\": \"token_embedding_table\""), std::string::npos) << json;
}

}  // namespace
}  // namespace llmnpu
