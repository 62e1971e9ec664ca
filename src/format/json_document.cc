#include "format/json_document.h"

#include <cmath>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/printable.h"

namespace llmnpu {

namespace {

// Deepest bracket nesting outside strings (escapes honoured); stops counting once past the limit.
int nesting_depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "not a JSON value";
  }
}

}  // namespace

Json parse_json_document(std::string_view text, const std::string& source, int max_depth) {
  check(nesting_depth(text, max_depth) <= max_depth, source, ": JSON nested deeper than ", max_depth,
        " levels");
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again for nlohmann's position message (exceptions only on the error path).
    try {
      const Json again = Json::parse(text.begin(), text.end());
    } catch (const Json::exception& e) {
      std::string what = e.what();
      const size_t colon = what.find("] ");
      fail(source, ": not valid JSON (",
           printable(colon == std::string::npos ? what : what.substr(colon + 2)), ")");
    }
    fail(source, ": not valid JSON");
  }
  return doc;
}

Json read_json_document(const std::string& path, int max_depth) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path, ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(!in.bad(), path, ": cannot read");
  return parse_json_document(text, path, max_depth);
}

std::string JsonField::child_path(std::string_view key) const {
  return path_.empty() ? printable(key, 64) : path_ + "." + printable(key, 64);
}

void JsonField::fail_here(const std::string& message) const {
  fail(source_, ": ", path_.empty() ? std::string("the document") : path_, " ", message);
}

void JsonField::require(bool ok, const char* what) const {
  if (!ok) fail_here(str("must be ", what, " (is ", type_name(*value_), ")"));
}

JsonField JsonField::at(std::string_view key) const {
  std::optional<JsonField> field = find(key);
  if (!field) fail(source_, ": ", child_path(key), " missing");
  return *field;
}

std::optional<JsonField> JsonField::find(std::string_view key) const {
  require(value_->is_object(), "an object");
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonField(*it, source_, child_path(key));
}

std::vector<JsonField> JsonField::elements() const {
  require(value_->is_array(), "an array");
  std::vector<JsonField> out;
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i)
    out.emplace_back((*value_)[i], source_, str(path_, "[", i, "]"));
  return out;
}

std::vector<std::pair<std::string, JsonField>> JsonField::members() const {
  require(value_->is_object(), "an object");
  std::vector<std::pair<std::string, JsonField>> out;
  out.reserve(value_->size());
  for (auto it = value_->begin(); it != value_->end(); ++it)
    out.emplace_back(it.key(), JsonField(it.value(), source_, child_path(it.key())));
  return out;
}

size_t JsonField::size() const {
  require(value_->is_array() || value_->is_object(), "an array or an object");
  return value_->size();
}

std::string JsonField::string() const {
  require(value_->is_string(), "a string");
  return value_->get<std::string>();
}

int64_t JsonField::integer(int64_t min, int64_t max) const {
  require(value_->is_number_integer(), "an integer");
  if (value_->is_number_unsigned() && value_->get<uint64_t>() > uint64_t(INT64_MAX))
    fail_here(str("must be at most ", max));
  const int64_t v = value_->get<int64_t>();
  if (v < min || v > max) fail_here(str("must be in [", min, ", ", max, "] (is ", v, ")"));
  return v;
}

double JsonField::number() const {
  require(value_->is_number(), "a number");
  const double v = value_->get<double>();
  if (!std::isfinite(v)) fail_here("must be a finite number");
  return v;
}

bool JsonField::boolean() const {
  require(value_->is_boolean(), "true or false");
  return value_->get<bool>();
}

std::string JsonField::string_or(std::string_view key, std::string fallback) const {
  std::optional<JsonField> f = find(key);
  return f ? f->string() : std::move(fallback);
}

int64_t JsonField::integer_or(std::string_view key, int64_t fallback, int64_t min, int64_t max) const {
  std::optional<JsonField> f = find(key);
  return f ? f->integer(min, max) : fallback;
}

double JsonField::number_or(std::string_view key, double fallback) const {
  std::optional<JsonField> f = find(key);
  return f ? f->number() : fallback;
}

bool JsonField::boolean_or(std::string_view key, bool fallback) const {
  std::optional<JsonField> f = find(key);
  return f ? f->boolean() : fallback;
}

}  // namespace llmnpu
