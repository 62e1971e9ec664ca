// User-supplied JSON: a nesting limit before parsing, and accessors whose errors name the file and the
// key path instead of nlohmann's messages.
#include "format/json_document.h"

#include <gtest/gtest.h>

#include "core/error.h"

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

TEST(JsonDocument, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NE(error_of([&] { parse_json_document(deep, "deep.json"); }).find("nested deeper than 64"),
            std::string::npos);
  // Brackets inside strings do not count.
  const Json ok = parse_json_document("{\"a\": \"" + std::string(1000, '[') + "\"}", "ok.json");
  EXPECT_TRUE(ok.is_object());
  EXPECT_TRUE(parse_json_document(std::string(64, '[') + std::string(64, ']'), "x").is_array());
  EXPECT_NE(error_of([] { parse_json_document(std::string(65, '[') + std::string(65, ']'), "x"); }), "");
}

TEST(JsonDocument, InvalidJsonNamesTheSource) {
  const std::string e = error_of([] { parse_json_document("{\"a\": 1,", "config.json"); });
  EXPECT_EQ(e.rfind("config.json: not valid JSON", 0), 0u) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_NE(error_of([] { parse_json_document("\"\xff\"", "bytes.json"); }), "");
  EXPECT_NE(error_of([] { parse_json_document("{\"big\": 1e400}", "big.json"); }).find("number overflow"),
            std::string::npos);
}

TEST(JsonDocument, FieldsNameMissingAndMistypedKeys) {
  const Json doc = parse_json_document(
      R"({"model": {"vocab": {"a": 0, "b": "one"}, "merges": [["a", "b"], 3]}, "n": 7})", "t.json");
  const JsonField root(doc, "tokenizer.json");
  EXPECT_EQ(error_of([&] { root.at("normalizer"); }), "tokenizer.json: normalizer missing");
  EXPECT_EQ(error_of([&] { root.at("model").at("vocab").at("b").integer(); }),
            "tokenizer.json: model.vocab.b must be an integer (is a string)");
  EXPECT_EQ(error_of([&] { root.at("model").at("merges").elements()[1].string(); }),
            "tokenizer.json: model.merges[1] must be a string (is an integer)");
  EXPECT_EQ(error_of([&] { root.at("n").integer(0, 5); }), "tokenizer.json: n must be in [0, 5] (is 7)");
  EXPECT_EQ(error_of([&] { root.at("n").at("x"); }), "tokenizer.json: n must be an object (is an integer)");
  EXPECT_EQ(root.at("model").at("vocab").at("a").integer(), 0);
  EXPECT_EQ(root.integer_or("absent", 42), 42);
  EXPECT_EQ(root.string_or("absent", "x"), "x");
  EXPECT_NE(error_of([&] { root.string_or("n", "x"); }), "");  // present with another type: an error
  EXPECT_EQ(root.at("model").at("vocab").members().size(), 2u);
}

TEST(JsonDocument, KeysFromFilesAreEscapedInErrors) {
  const Json doc = parse_json_document("{\"a\\u001b[2J\": 1}", "k.json");
  const JsonField root(doc, "k.json");
  const std::string e = error_of([&] { root.at("a\x1b[2J").string(); });
  EXPECT_NE(e.find("a\\x1b[2J must be a string"), std::string::npos) << e;
}

}  // namespace
}  // namespace llmnpu
