#pragma once
// JSON that users supply (config.json, tokenizer.json, tokenizer_config.json, safetensors headers,
// device profiles): parsed with a nesting limit, then read only through JsonField, whose errors name the
// file and the key path ("tokenizer.json: model.vocab missing", "...: added_tokens[3].id must be an
// integer"), never nlohmann's own messages or its unchecked operator[].
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmnpu {

using Json = nlohmann::json;

// Nesting deeper than this is refused before parsing: real documents stay under ~10 levels, and deep
// values would otherwise cost recursion in every later copy or comparison.
constexpr int kMaxJsonDepth = 64;

// Parses text; errors start with `source`. Throws Error on invalid JSON or excessive nesting.
Json parse_json_document(std::string_view text, const std::string& source, int max_depth = kMaxJsonDepth);
// Reads and parses a file; errors name the path.
Json read_json_document(const std::string& path, int max_depth = kMaxJsonDepth);

// A value inside a document, with the source and key path used in errors. Holds a reference: the
// document must outlive it.
class JsonField {
 public:
  JsonField(const Json& value, std::string source, std::string path = "")
      : value_(&value), source_(std::move(source)), path_(std::move(path)) {}

  const Json& raw() const { return *value_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return value_->is_null(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }
  bool is_string() const { return value_->is_string(); }

  // Object members. `at` requires the key (and a non-null value); `find` returns nothing when the key
  // is absent or null. Both require this value to be an object.
  JsonField at(std::string_view key) const;
  std::optional<JsonField> find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key).has_value(); }
  // Array elements (requires an array) and object members in document order (requires an object).
  std::vector<JsonField> elements() const;
  std::vector<std::pair<std::string, JsonField>> members() const;
  size_t size() const;  // elements or members

  // Typed reads; throw Error naming the key path when the value has another type or is out of range.
  std::string string() const;
  int64_t integer(int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  double number() const;  // finite
  bool boolean() const;

  // Optional members with a fallback when absent or null (a present value of another type is an error).
  std::string string_or(std::string_view key, std::string fallback) const;
  int64_t integer_or(std::string_view key, int64_t fallback, int64_t min = INT64_MIN,
                     int64_t max = INT64_MAX) const;
  double number_or(std::string_view key, double fallback) const;
  bool boolean_or(std::string_view key, bool fallback) const;

  // Throws Error "<source>: <path> <message>".
  [[noreturn]] void fail_here(const std::string& message) const;

 private:
  std::string child_path(std::string_view key) const;
  void require(bool ok, const char* what) const;

  const Json* value_;
  std::string source_;
  std::string path_;
};

}  // namespace llmnpu
