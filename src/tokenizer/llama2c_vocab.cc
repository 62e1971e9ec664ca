#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "tokenizer/load.h"

namespace llmnpu {

Vocab vocab_from_llama2c(const std::string& path, int32_t vocab_size) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path, ": cannot open llama2.c tokenizer");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto read = [&](void* dst, size_t n, const char* what) {
    check(pos + n <= data.size(), path, ": llama2.c tokenizer is truncated (reading ", what, " at byte ", pos,
          ")");
    std::memcpy(dst, data.data() + pos, n);
    pos += n;
  };
  int32_t max_token_length = 0;
  read(&max_token_length, 4, "max_token_length");
  check(max_token_length > 0 && max_token_length < (1 << 20), path,
        ": not a llama2.c tokenizer (max_token_length ", max_token_length, ")");

  Vocab v;
  v.kind = VocabKind::SentencePieceBpe;
  v.pre = "default";
  v.add_space_prefix = true;
  v.add_bos = true;
  while (vocab_size > 0 ? int32_t(v.tokens.size()) < vocab_size : pos < data.size()) {
    float score = 0;
    int32_t len = 0;
    read(&score, 4, "a token score");
    read(&len, 4, "a token length");
    check(len >= 0 && len <= max_token_length, path, ": token ", v.tokens.size(), " has invalid length ",
          len);
    std::string piece(size_t(len), '\0');
    read(piece.data(), size_t(len), "token bytes");
    // llama2.c's exporter wrote '▁' as ' ' and BOS/EOS as "\n<s>\n", "\n</s>\n"; undo both.
    if (piece.size() > 2 && piece.front() == '\n' && piece.back() == '\n')
      piece = piece.substr(1, piece.size() - 2);
    std::string restored;
    for (char c : piece) {
      if (c == ' ')
        restored += "\xE2\x96\x81";
      else
        restored += c;
    }
    v.tokens.push_back(std::move(restored));
    v.scores.push_back(score);
  }
  check(!v.tokens.empty(), path, ": llama2.c tokenizer has no tokens");
  v.types.assign(v.tokens.size(), TokenType::Normal);
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    const std::string& t = v.tokens[i];
    if (t == "<unk>") {
      v.types[i] = TokenType::Unknown;
      v.unk_id = int32_t(i);
    } else if (t == "<s>" || t == "</s>") {
      v.types[i] = TokenType::Control;
      (t == "<s>" ? v.bos_id : v.eos_id) = int32_t(i);
    } else if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
      v.types[i] = TokenType::Byte;
    }
  }
  v.validate();
  return v;
}

}  // namespace llmnpu
