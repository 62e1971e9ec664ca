#include "format/gguf.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/testdata.h"
#include "core/error.h"

namespace llmnpu {
namespace {

TEST(Gguf, ReadsVocabFileMetadata) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/ggml-vocab/ggml-vocab-gpt-2.gguf");
  GgufFile f(test::shared_path("testdata/tokenizers/ggml-vocab/ggml-vocab-gpt-2.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get("tokenizer.ggml.model").as_string(), "gpt2");
  EXPECT_GT(f.get("tokenizer.ggml.tokens").as_strings().size(), 50000u);
}

TEST(Gguf, RejectsTruncatedFileAtEveryLength) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/ggml-vocab/ggml-vocab-llama-spm.gguf");
  std::ifstream in(test::shared_path("testdata/tokenizers/ggml-vocab/ggml-vocab-llama-spm.gguf"),
                   std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string path = test::temp_dir() + "/trunc.gguf";
  for (size_t len :
       {size_t(0), size_t(3), size_t(10), size_t(23), size_t(100), bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(len));
    EXPECT_THROW(GgufFile g(path), Error) << "length " << len;
  }
}

TEST(Gguf, RejectsBadMagicAndVersion) {
  std::string path = test::temp_dir() + "/bad.gguf";
  std::ofstream(path, std::ios::binary) << "GGML\x03\0\0\0";
  EXPECT_THROW(GgufFile g(path), Error);
  std::string v9("GGUF\x09\0\0\0", 8);
  v9 += std::string(16, '\0');
  std::ofstream(path, std::ios::binary) << v9;
  EXPECT_THROW(GgufFile g(path), Error);
  EXPECT_THROW(GgufFile g(test::temp_dir() + "/does-not-exist.gguf"), Error);
}

}  // namespace
}  // namespace llmnpu
