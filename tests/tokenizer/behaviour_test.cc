// Behaviour beyond the golden files: invalid UTF-8, NFC, streaming decode, special tokens, the built-in
// vocab and its GGUF round trip, llama2.c loading errors, speed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/testdata.h"
#include "core/error.h"
#include "core/utf8.h"
#include "format/gguf_writer.h"
#include "tokenizer/load.h"
#include "tokenizer/nfc.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/streaming_decoder.h"

namespace llmnpu {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const Tokenizer& builtin() {
  static auto tokenizer = make_tokenizer(builtin_byte_vocab());
  return *tokenizer;
}

TEST(Utf8, InvalidInputIsRejectedWithItsOffset) {
  const Tokenizer& t = builtin();
  EXPECT_EQ(error_of([&] { t.encode("ab\xC3", false); }), "input is not valid UTF-8 at byte 2");
  EXPECT_EQ(error_of([&] { t.encode("\xFF", false); }), "input is not valid UTF-8 at byte 0");
  EXPECT_EQ(error_of([&] { t.encode("x\xED\xA0\x80", false); }),
            "input is not valid UTF-8 at byte 1");  // surrogate
  EXPECT_EQ(error_of([&] { t.encode("\xC0\xAF", false); }),
            "input is not valid UTF-8 at byte 0");  // overlong
  EXPECT_EQ(error_of([&] { t.encode("h\xC3\xA9llo \xF4\x90\x80\x80", false); }),
            "input is not valid UTF-8 at byte 7");  // above U+10FFFF
  EXPECT_EQ(error_of([&] { t.encode("h\xC3\xA9llo \xF0\x9F\xA6\x99", false); }), "");
}

TEST(Utf8, LossyUsesOneReplacementPerMaximalSubpart) {
  EXPECT_EQ(utf8::lossy("a\xF0\x9F\xA6"), "a\xEF\xBF\xBD");
  EXPECT_EQ(utf8::lossy("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8::lossy("\xE2\x82z"), "\xEF\xBF\xBDz");
}

TEST(Nfc, ComposesReordersAndLeavesComposedTextAlone) {
  EXPECT_EQ(nfc("e\xCC\x81"), "\xC3\xA9");  // e + acute -> é
  EXPECT_EQ(nfc("cafe\xCC\x81 nai\xCC\x88ve"), "caf\xC3\xA9 na\xC3\xAFve");
  EXPECT_EQ(nfc("a\xCC\xA3\xCC\x87"), "\xE1\xBA\xA1\xCC\x87");  // a + dot below + dot above -> ạ̇
  EXPECT_EQ(nfc("a\xCC\x87\xCC\xA3"), "\xE1\xBA\xA1\xCC\x87");  // reordered first
  EXPECT_EQ(nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // Hangul jamo -> 각
  EXPECT_EQ(nfc("\xE2\x84\xAB"), "\xC3\x85");                              // Angstrom sign -> Å (singleton)
  EXPECT_EQ(nfc("\xEF\xAC\x81"), "\xEF\xAC\x81");                          // ligature fi: compatibility only
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
}

TEST(PreTokenizer, SplitsWithUnicodeClassesAndNextLineAsSpace) {
  PreTokenizer gpt2(pre_tokenizer_regexes("gpt-2"));
  std::vector<std::string_view> expected = {"Hello", ",", " w\xC3\xB6rld", " 123", "  ", " \xE6\x97\xA5"};
  EXPECT_EQ(gpt2.split("Hello, w\xC3\xB6rld 123   \xE6\x97\xA5"), expected);
  PreTokenizer words({R"(\S+)"});
  expected = {"a", "\xC2\x85", "b"};  // U+0085 is white space, as in Unicode and the reference engines
  EXPECT_EQ(words.split("a\xC2\x85"
                        "b"),
            expected);
  EXPECT_THROW(PreTokenizer({"(unclosed"}), Error);
}

// The pre-tokenizer types llama.cpp names in GGUF files: each compiles, covers the text exactly, and
// splits where its model's pattern does; the ones with engine-specific splitters stay refused.
TEST(PreTokenizer, LlamaCppPreTypesSplitAsTheirModelsDo) {
  const std::string mixed =
      "Hello, World! I'm HTTPServer 12345 caf\xC3\xA9 \xE4\xB8\x96\xE7\x95\x8C\n\n  x\xE2\x80\xA6y";
  for (const char* name :
       {"deepseek-llm", "deepseek-v3", "hunyuan-dense", "poro-chat", "bloom",    "gpt3-finnish",
        "chatglm-bpe",  "glm4",        "viking",        "tekken",    "gpt-4o",   "llama4",
        "olmo",         "jais",        "stablelm2",     "falcon3",   "pixtral",  "seed-coder",
        "bailingmoe",   "command-r",   "dbrx",          "smaug-bpe", "trillion", "exaone4",
        "megrez",       "grok-2"}) {
    const auto regexes = pre_tokenizer_regexes(name);
    ASSERT_FALSE(regexes.empty()) << name;
    PreTokenizer pre(regexes);
    std::string joined;
    for (auto piece : pre.split(mixed)) joined += piece;
    EXPECT_EQ(joined, mixed) << name;
  }
  auto split = [](const char* name, const char* text) {
    std::vector<std::string> out;
    for (auto piece : PreTokenizer(pre_tokenizer_regexes(name)).split(text)) out.emplace_back(piece);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(split("viking", "ab 123"), (V{"ab", " ", "1", "2", "3"}));  // digits one by one
  EXPECT_EQ(split("bloom", "Hi, you!"), (V{"Hi", ",", " you", "!"}));   // punctuation ends a run
  EXPECT_EQ(split("deepseek-v3", "x12345"), (V{"x", "123", "45"}));     // digits in threes
  EXPECT_EQ(split("deepseek-llm", "ab12 cd"), (V{"ab", "12", " cd"}));  // digit runs whole
  EXPECT_EQ(split("tekken", "HelloWorld 42"), (V{"Hello", "World", " ", "4", "2"}));
  EXPECT_EQ(split("gpt-4o", "I'm HTTPServer"), (V{"I'm", " HTTPServer"}));
  for (const char* refused : {"kimi-k2", "superbpe", "afmoe", "no-such-pre"}) {
    Vocab v;
    v.kind = VocabKind::ByteLevelBpe;
    v.pre = refused;
    EXPECT_THROW(effective_pre_regexes(v), Error) << refused;
  }
}

TEST(StreamingDecoder, HoldsSplitCharactersOfByteLevelPieces) {
  const Tokenizer& t = builtin();
  std::string text = "caf\xC3\xA9 \xF0\x9F\xA6\x99 \xE6\x97\xA5\xE6\x9C\xAC ok";
  auto ids = t.encode(text, false);
  StreamingDecoder stream(t);
  std::string out;
  for (int32_t id : ids) {
    std::string part = stream.push(id);
    EXPECT_EQ(utf8::first_invalid(part), part.size()) << "partial UTF-8 emitted";
    out += part;
  }
  out += stream.flush();
  EXPECT_EQ(out, text);
  EXPECT_EQ(out, t.decode(ids));

  // The emoji's four bytes are four separate byte tokens here: nothing comes out until the last.
  StreamingDecoder emoji(t);
  auto emoji_ids = t.encode("\xF0\x9F\xA6\x99", false);
  ASSERT_EQ(emoji_ids.size(), 4u);
  EXPECT_EQ(emoji.push(emoji_ids[0]), "");
  EXPECT_EQ(emoji.push(emoji_ids[1]), "");
  EXPECT_EQ(emoji.push(emoji_ids[2]), "");
  EXPECT_EQ(emoji.push(emoji_ids[3]), "\xF0\x9F\xA6\x99");

  // A stream cut inside a character flushes as U+FFFD.
  StreamingDecoder cut(t);
  EXPECT_EQ(cut.push(emoji_ids[0]), "");
  EXPECT_EQ(cut.push(emoji_ids[1]), "");
  EXPECT_EQ(cut.flush(), "\xEF\xBF\xBD");
}

TEST(StreamingDecoder, HoldsSplitByteFallbackOfSentencePiece) {
  LLMNPU_REQUIRE_SHARED("testdata/tokenizers/llama2/tokenizer.bin");
  auto t = make_tokenizer(
      vocab_from_llama2c(test::shared_path("testdata/tokenizers/llama2/tokenizer.bin"), 32000));
  std::string text = "Hi \xF0\x9F\xA6\x99 and \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 text";  // 🦙, 한국어
  auto ids = t->encode(text, true);
  // 🦙 is not in the vocab: it falls back to <0xF0><0x9F><0xA6><0x99>.
  std::vector<int32_t> llama_bytes = {243, 162, 169, 156};
  ASSERT_NE(std::search(ids.begin(), ids.end(), llama_bytes.begin(), llama_bytes.end()), ids.end());
  StreamingDecoder stream(*t);
  std::string out;
  for (int32_t id : ids) {
    std::string part = stream.push(id);
    EXPECT_EQ(utf8::first_invalid(part), part.size());
    out += part;
  }
  out += stream.flush();
  EXPECT_EQ(out, t->decode(ids));
  EXPECT_EQ(out, "<s> " + text);  // decode keeps BOS text; the space after it is the text's '▁'

  StreamingDecoder plain(*t);
  std::string plain_out;
  for (int32_t id : t->encode(text, false)) plain_out += plain.push(id);
  EXPECT_EQ(plain_out + plain.flush(), text);  // the prefix space is dropped, as decode does
}

TEST(SpecialTokens, MatchedInTextLeftmostLongest) {
  const Tokenizer& t = builtin();
  const Vocab& v = t.vocab();
  auto ids = t.encode("hi<|endoftext|><s>x</s>", false);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[ids.size() - 4], v.eot_id);
  EXPECT_EQ(ids[ids.size() - 3], v.bos_id);
  EXPECT_EQ(ids[ids.size() - 1], v.eos_id);
  EXPECT_EQ(t.decode(ids), "hi<|endoftext|><s>x</s>");
  EXPECT_TRUE(t.is_end_of_generation(v.eos_id));
  EXPECT_TRUE(t.is_end_of_generation(v.eot_id));
  EXPECT_FALSE(t.is_end_of_generation(v.bos_id));
  EXPECT_FALSE(t.is_end_of_generation(5));
  EXPECT_EQ(t.encode("", true), std::vector<int32_t>{v.bos_id});
}

TEST(BuiltinVocab, IsDeterministicAndRoundTripsText) {
  Vocab a = builtin_byte_vocab(), b = builtin_byte_vocab();
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.tokens.size(), 512u);
  EXPECT_EQ(a.merges.size(), 253u);
  const Tokenizer& t = builtin();
  std::string text = "Once upon a time, the engine read a model file. \xC3\x84pfel \xE2\x9C\x85\n\tend";
  auto ids = t.encode(text, false);
  EXPECT_EQ(t.decode(ids), text);
  std::string english = "Once upon a time there was a little girl who lived in a small house";
  EXPECT_LT(t.encode(english, false).size(), english.size() / 3);  // merges were learned and used
  EXPECT_EQ(t.decode(ids), text);
}

TEST(VocabMetadata, RoundTripsThroughGguf) {
  Vocab vocab = builtin_byte_vocab();
  std::vector<std::pair<std::string, GgufValue>> metadata;
  append_vocab_metadata(vocab, metadata);
  GgufWriter writer;
  writer.set("general.architecture", GgufValue::of_string("llama"));
  for (auto& [key, value] : metadata) writer.set(key, value);
  std::string path = test::temp_dir() + "/builtin_vocab.gguf";
  writer.write(path);

  GgufFile file(path);
  EXPECT_EQ(file.get_string("tokenizer.ggml.model", ""), "gpt2");
  EXPECT_EQ(file.get_string("tokenizer.ggml.pre", ""), "gpt-2");
  Vocab back = vocab_from_gguf(file);
  EXPECT_EQ(back.tokens, vocab.tokens);
  EXPECT_EQ(back.merges, vocab.merges);
  EXPECT_EQ(back.types, vocab.types);
  EXPECT_EQ(back.bos_id, vocab.bos_id);
  EXPECT_EQ(back.eos_id, vocab.eos_id);
  EXPECT_EQ(back.eot_id, vocab.eot_id);
  EXPECT_EQ(back.add_bos, vocab.add_bos);
  auto tokenizer = load_tokenizer(path);
  std::string text = "The town was good.<|endoftext|>";
  EXPECT_EQ(tokenizer->encode(text, true), builtin().encode(text, true));
}

TEST(VocabMetadata, ChatTemplateSurvivesGgufAndHuggingFaceFiles) {
  Vocab vocab = builtin_byte_vocab();
  vocab.chat_template =
      "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}";
  std::vector<std::pair<std::string, GgufValue>> metadata;
  append_vocab_metadata(vocab, metadata);
  GgufWriter writer;
  for (auto& [key, value] : metadata) writer.set(key, value);
  const std::string dir = test::temp_dir() + "/chat-template";
  std::filesystem::create_directories(dir);
  writer.write(dir + "/vocab.gguf");
  const Vocab from_gguf = vocab_from_gguf(GgufFile(dir + "/vocab.gguf"));
  EXPECT_EQ(from_gguf.chat_template, vocab.chat_template);
  write_hf_tokenizer(from_gguf, dir);
  EXPECT_EQ(vocab_from_hf_json(dir + "/tokenizer.json").chat_template, vocab.chat_template);
  EXPECT_NE(make_tokenizer(from_gguf)->describe().find("chat template"), std::string::npos);
  // Newer tokenizer_config.json files carry a list of named templates: "default" wins.
  std::ofstream(dir + "/tokenizer_config.json", std::ios::trunc)
      << R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})";
  EXPECT_EQ(vocab_from_hf_json(dir + "/tokenizer.json").chat_template, "D");
  std::ofstream(dir + "/tokenizer_config.json", std::ios::trunc) << R"({"chat_template": [{"name": "x"}]})";
  EXPECT_NE(error_of([&] {
              vocab_from_hf_json(dir + "/tokenizer.json");
            }).find("chat_template[0].template missing"),
            std::string::npos);
}

TEST(Loaders, ReportBadFilesClearly) {
  std::string dir = test::temp_dir();
  std::string truncated = dir + "/truncated.bin";
  {
    std::ofstream out(truncated, std::ios::binary);
    int32_t header[3] = {16, 0, 5};  // max length 16, score 0.0, then a 5-byte token that is missing
    out.write(reinterpret_cast<const char*>(header), sizeof(header));
  }
  EXPECT_NE(error_of([&] { vocab_from_llama2c(truncated, 10); }).find("truncated"), std::string::npos);
  EXPECT_NE(error_of([&] { load_tokenizer(dir + "/missing.json"); }).find("no such file"), std::string::npos);
  std::string bad_json = dir + "/tokenizer.json";
  std::ofstream(bad_json) << "{ not json";
  EXPECT_NE(error_of([&] { load_tokenizer(bad_json); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of([&] { builtin().decode({99999}); }).find("outside the vocab"), std::string::npos);
}

TEST(Loaders, TokenizerJsonErrorsNameTheKey) {
  const std::string dir = test::temp_dir() + "/hf-errors";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/tokenizer.json";
  auto error_for = [&](const std::string& json) {
    std::ofstream(path, std::ios::trunc) << json;
    return error_of([&] { vocab_from_hf_json(path); });
  };
  const std::string pre = R"("pre_tokenizer": {"type": "ByteLevel"}, )";
  EXPECT_NE(error_for("{" + pre + R"("model": {"type": "BPE"}})").find("model.vocab missing"),
            std::string::npos);
  EXPECT_NE(error_for("{" + pre + R"("model": {"vocab": 0}})").find("model.vocab must be an object"),
            std::string::npos);
  EXPECT_NE(
      error_for("{" + pre + R"("model": {"vocab": {"a": "x"}}})").find("model.vocab.a must be an integer"),
      std::string::npos);
  EXPECT_NE(error_for("{" + pre + R"("model": {"vocab": {"a": 0}}, "added_tokens": [{"content": "b"}]})")
                .find("added_tokens[0].id missing"),
            std::string::npos);
  EXPECT_NE(error_for("{" + pre + R"("model": {"vocab": {"a": 0}, "merges": [3]}})").find("model.merges[0]"),
            std::string::npos);
  EXPECT_NE(error_for(R"({"normalizer": {"type": "Sequence"}, "model": {"vocab": {"a": 0}}})")
                .find("normalizer.normalizers missing"),
            std::string::npos);
  EXPECT_NE(
      error_for(
          R"({"pre_tokenizer": {"type": "Split", "behavior": "Isolated"}, "model": {"vocab": {"a": 0}}})")
          .find("pre_tokenizer.pattern missing"),
      std::string::npos);
  EXPECT_NE(error_for(R"({"model": {"vocab": {"a": 0}}, "normalizer": )" + std::string(100000, '{'))
                .find("nested deeper"),
            std::string::npos);
  EXPECT_NE(error_for("{" + pre + R"("model": {"vocab": {"a": 0, "b": 4000000}}})").find("gaps"),
            std::string::npos);
}

TEST(Encoding, AVocabThatCannotSpellAByteIsAnError) {
  Vocab v;
  v.pre = "gpt-2";
  for (const char* t : {"a", "b", "\xC4\xA0"}) v.tokens.push_back(t);  // 'a', 'b' and the mapped space
  v.types.assign(v.tokens.size(), TokenType::Normal);
  const auto tokenizer = make_tokenizer(v);
  EXPECT_EQ(tokenizer->encode("ab ba", false).size(), 5u);
  EXPECT_NE(error_of([&] { tokenizer->encode("abc", false); }).find("no token for byte 0x63"),
            std::string::npos);
}

TEST(Performance, Encodes100KilobytesQuickly) {
  const Tokenizer& t = builtin();
  std::string text;
  while (text.size() < 100000)
    text +=
        "The children played in the garden, laughing; numbers 12345 and caf\xC3\xA9 "
        "\xE6\x97\xA5\xE6\x9C\xAC.\n";
  auto start = std::chrono::steady_clock::now();
  auto ids = t.encode(text, false);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(t.decode(ids), text);
  EXPECT_LT(seconds, 0.5) << "encoding 100 KB took " << seconds << " s";
}

}  // namespace
}  // namespace llmnpu
