#pragma once
// The tokenizer built from a Vocab: byte-level BPE (GPT-2 style) or SentencePiece-style BPE with byte
// fallback, with special-token matching in the input and Hugging Face-compatible decoding.
#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {

class VocabTokenizer final : public Tokenizer {
 public:
  explicit VocabTokenizer(Vocab vocab);  // throws Error on an inconsistent vocab

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override;
  std::string token_bytes(int32_t id) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int32_t bos_id() const override { return vocab_.bos_id; }
  int32_t eos_id() const override { return vocab_.eos_id; }
  bool adds_bos() const override { return vocab_.add_bos; }
  size_t vocab_size() const override { return vocab_.tokens.size(); }
  bool is_end_of_generation(int32_t id) const override;
  std::string describe() const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  void encode_byte_level(std::string_view text, std::vector<int32_t>& out) const;
  void encode_sentencepiece(std::string_view text, std::vector<int32_t>& out) const;
  void merge(std::vector<int32_t>& ids) const;
  void check_id(int32_t id) const;

  Vocab vocab_;
  std::unordered_map<std::string, int32_t> token_ids_;
  // (left id << 32 | right id) -> (rank, merged id), from vocab_.merges.
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merge_ranks_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  SpecialTokenMatcher specials_;
  std::array<int32_t, 256> byte_ids_{};  // token of each byte (mapped char or <0xNN>); -1 when absent
  std::vector<bool> mergeable_;          // SentencePiece: byte/control/unknown pieces never merge
  std::vector<bool> end_of_generation_;
};

}  // namespace llmnpu
