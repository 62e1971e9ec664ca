#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tokenizer/load.h"
#include "tokenizer/vocab_tokenizer.h"

namespace llmnpu {

std::unique_ptr<Tokenizer> make_tokenizer(Vocab vocab) {
  return std::make_unique<VocabTokenizer>(std::move(vocab));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  check(fs::exists(path, ec), path, ": no such file or folder");
  if (fs::is_directory(path, ec)) {
    for (const char* name : {"tokenizer.json", "tokenizer.bin"}) {
      fs::path candidate = fs::path(path) / name;
      if (fs::exists(candidate, ec)) return load_tokenizer(candidate.string());
    }
    fail(path, ": folder holds no tokenizer.json or tokenizer.bin");
  }
  char magic[4] = {};
  {
    std::ifstream in(path, std::ios::binary);
    check(in.good(), path, ": cannot open");
    in.read(magic, 4);
  }
  if (std::string_view(magic, 4) == "GGUF") return make_tokenizer(vocab_from_gguf(GgufFile(path)));
  std::string ext = fs::path(path).extension().string();
  if (ext == ".json") return make_tokenizer(vocab_from_hf_json(path));
  if (ext == ".bin") return make_tokenizer(vocab_from_llama2c(path, 0));
  fail(path, ": not a tokenizer this build reads (expected .gguf, tokenizer.json or llama2.c tokenizer.bin)");
}

}  // namespace llmnpu
