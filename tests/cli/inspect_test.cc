#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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

TEST(InspectCli, ReadsPreparedFiles) {
  // A micro model prepared on a little text: inspect shows the W8A8 layout, hot channels and budget.
  const std::string dir = test::temp_dir();
  const std::string model = dir + "/inspect-tiny.gguf", prepared = dir + "/inspect-tiny.w8a8.gguf";
  const std::string calib = dir + "/inspect-calib.txt";
  std::ofstream(calib) << "The children played in the garden while their mother baked bread. "
                       << std::string(40, 'x');
  std::string out;
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " synth --shape tiny --layers 2 --outliers -o " + model,
                              &out),
            0)
      << out;
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " prepare -m " + model + " --calib " + calib +
                                  " --calib-tokens 64 --calib-window 32 --prune-tokens 16 -o " + prepared,
                              &out),
            0)
      << out;
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " inspect " + prepared, &out), 0) << out;
  EXPECT_NE(out.find("prepared W8A8"), std::string::npos) << out;
  EXPECT_NE(out.find("blk.1.gate_up"), std::string::npos) << out;
  EXPECT_NE(out.find("resident shadow"), std::string::npos) << out;
  const std::string json_path = dir + "/inspect.json";
  ASSERT_EQ(test::run_command(
                "(" + test::llmnpu_binary() + " inspect --json " + prepared + " > " + json_path + ")", &out),
            0)
      << out;
  std::ifstream in(json_path);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["format"], "prepared");
  ASSERT_EQ(j["linears"].size(), 8u);  // 2 layers x qkv, o, gate_up, down
  EXPECT_EQ(j["linears"][0]["name"], "blk.0.qkv");
  EXPECT_EQ(j["linears"][0]["in"], 128);
  size_t resident = 0;
  for (const auto& l : j["linears"]) resident += l["resident_bytes"].get<size_t>();
  EXPECT_EQ(resident, j["resident_shadow_bytes"].get<size_t>());
  EXPECT_TRUE(j["settings"].contains("calibration_tokens"));
  EXPECT_EQ(j["linears"][0]["shadow_row_budget"], 16);  // max(16, 128 / 32)
  // --graph reads prepared files too.
  ASSERT_EQ(test::run_command(test::llmnpu_binary() + " inspect --graph -p 64 --chunk 32 " + prepared, &out),
            0)
      << out;
  EXPECT_NE(out.find("w8a8"), std::string::npos) << out;
}

}  // namespace
}  // namespace llmnpu
