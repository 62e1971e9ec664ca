#include "jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/utf8.h"

namespace llmnpu::jinja {

Value Value::array(Array items, bool tuple) {
  Value v(Kind::Array);
  v.array_ = std::make_shared<Array>(std::move(items));
  v.tuple_ = tuple;
  return v;
}

Value Value::object(Object items, bool is_namespace) {
  Value v(Kind::Object);
  v.object_ = std::make_shared<Object>(std::move(items));
  v.namespace_ = is_namespace;
  return v;
}

Value Value::function(std::string name, Function fn) {
  Value v(Kind::Function);
  v.text_ = std::move(name);
  v.function_ = std::make_shared<Function>(std::move(fn));
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      return u > uint64_t(INT64_MAX) ? Value(double(u)) : Value(int64_t(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array items;
      for (const auto& e : j) items.push_back(from_json(e));
      return array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Object fields;
      for (const auto& [k, e] : j.items()) fields.emplace_back(k, from_json(e));
      return object(std::move(fields));
    }
    default: return Value();
  }
}

const Value* Value::find(const std::string& key) const {
  if (kind_ != Kind::Object) return nullptr;
  for (const auto& [k, v] : *object_)
    if (k == key) return &v;
  return nullptr;
}

void Value::set(const std::string& key, Value v) const {
  for (auto& [k, old] : *object_)
    if (k == key) {
      old = std::move(v);
      return;
    }
  object_->emplace_back(key, std::move(v));
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return int_ != 0;
    case Kind::Float: return float_ != 0;
    case Kind::String: return !text_.empty();
    case Kind::Array: return !array_->empty();
    case Kind::Object: return namespace_ || !object_->empty();
    case Kind::Function: return true;
  }
  return false;
}

std::string python_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // The shortest digits that read back as d, then Python's layout: plain for exponents -4..15.
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string s = buf;
  const size_t e = s.find('e');
  const int exponent = std::atoi(s.c_str() + e + 1);
  std::string digits;
  const bool negative = s[0] == '-';
  for (size_t i = negative ? 1 : 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(size_t(-exponent - 1), '0') + digits;
    } else {
      const size_t int_digits = size_t(exponent) + 1;
      if (digits.size() <= int_digits)
        out += digits + std::string(int_digits - digits.size(), '0') + ".0";
      else
        out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_text[16];
  std::snprintf(exp_text, sizeof exp_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_text;
}

static std::string python_string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == quote)
      out += std::string("\\") + char(c);
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + quote;
}

std::string Value::str() const {
  switch (kind_) {
    case Kind::Undefined: return "";
    case Kind::String: return text_;
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "None";
    case Kind::Bool: return int_ ? "True" : "False";
    case Kind::Int: return std::to_string(int_);
    case Kind::Float: return python_float_repr(float_);
    case Kind::String: return python_string_repr(text_);
    case Kind::Array: {
      std::string out = tuple_ ? "(" : "[";
      for (size_t i = 0; i < array_->size(); ++i) out += (i ? ", " : "") + (*array_)[i].repr();
      if (tuple_ && array_->size() == 1) out += ",";
      return out + (tuple_ ? ")" : "]");
    }
    case Kind::Object: {
      if (namespace_) return "<Namespace>";
      std::string out = "{";
      for (size_t i = 0; i < object_->size(); ++i)
        out += (i ? ", " : "") + python_string_repr((*object_)[i].first) + ": " + (*object_)[i].second.repr();
      return out + "}";
    }
    case Kind::Function: return "<function " + text_ + ">";
  }
  return "";
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined: return "undefined";
    case Kind::None: return "none";
    case Kind::Bool: return "boolean";
    case Kind::Int: return "integer";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::Array: return tuple_ ? "tuple" : "list";
    case Kind::Object: return namespace_ ? "namespace" : "dict";
    case Kind::Function: return "function";
  }
  return "";
}

// json.dumps' string escaping with ensure_ascii=False: quotes, backslashes and control characters only.
static void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

static void append_json(std::string& out, const Value& v, const Value::JsonStyle& style, int depth) {
  check(depth < 128, "tojson: value nested too deeply");
  const int indent = style.indent;
  const bool sort_keys = style.sort_keys;
  const auto newline = [&](int level) {
    if (indent >= 0) out += "\n" + std::string(size_t(indent * level), ' ');
  };
  const std::string& item_separator = style.item_separator;
  const std::string& key_separator = style.key_separator;
  switch (v.kind()) {
    case Kind::None: out += "null"; return;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Kind::Int: out += std::to_string(v.as_int()); return;
    case Kind::Float: {
      const double d = v.as_number();
      out += std::isnan(d)   ? "NaN"
             : std::isinf(d) ? (d < 0 ? "-Infinity" : "Infinity")
                             : python_float_repr(d);
      return;
    }
    case Kind::String: append_json_string(out, v.as_string()); return;
    case Kind::Array: {
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += item_separator;
        newline(depth + 1);
        append_json(out, v.items()[i], style, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Kind::Object: {
      check(!v.is_namespace(), "tojson: Object of type Namespace is not JSON serializable");
      if (v.fields().empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, Value>*> fields;
      for (const auto& f : v.fields()) fields.push_back(&f);
      if (sort_keys)
        std::stable_sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += item_separator;
        newline(depth + 1);
        append_json_string(out, fields[i]->first);
        out += key_separator;
        append_json(out, fields[i]->second, style, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    case Kind::Undefined: fail("tojson: Object of type Undefined is not JSON serializable");
    case Kind::Function: fail("tojson: Object of type function is not JSON serializable");
  }
}

std::string Value::to_json(const JsonStyle& style) const {
  JsonStyle s = style;
  if (s.item_separator.empty()) s.item_separator = s.indent >= 0 ? "," : ", ";
  if (s.key_separator.empty()) s.key_separator = ": ";
  std::string out;
  append_json(out, *this, s, 0);
  if (!s.ensure_ascii) return out;
  // \uXXXX (surrogate pairs above the BMP) for every non-ASCII code point.
  std::string ascii;
  for (uint32_t cp : utf8::decode(out)) {
    char buf[16];
    if (cp < 0x80) {
      ascii += char(cp);
    } else if (cp < 0x10000) {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      ascii += buf;
    } else {
      const uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      ascii += buf;
    }
  }
  return ascii;
}

bool equal(const Value& a, const Value& b) {
  const auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (numeric(a) && numeric(b)) {
    if (a.is_float() || b.is_float()) return a.as_number() == b.as_number();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.as_string() == b.as_string();
    case Kind::Array: {
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i)
        if (!equal(a.items()[i], b.items()[i])) return false;
      return true;
    }
    case Kind::Object: {
      if (a.is_namespace() || b.is_namespace()) return &a.fields() == &b.fields();
      if (a.fields().size() != b.fields().size()) return false;
      for (const auto& [k, v] : a.fields()) {
        const Value* other = b.find(k);
        if (!other || !equal(v, *other)) return false;
      }
      return true;
    }
    case Kind::Function: return &a.function() == &b.function();
    default: return false;
  }
}

int compare(const Value& a, const Value& b) {
  const auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (numeric(a) && numeric(b)) {
    const double x = a.as_number(), y = b.as_number();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string())
    return a.as_string().compare(b.as_string()) < 0 ? -1 : a.as_string() == b.as_string() ? 0 : 1;
  if (a.is_array() && b.is_array()) {
    const size_t n = std::min(a.items().size(), b.items().size());
    for (size_t i = 0; i < n; ++i)
      if (int c = compare(a.items()[i], b.items()[i])) return c;
    return a.items().size() < b.items().size() ? -1 : a.items().size() > b.items().size() ? 1 : 0;
  }
  fail("'<' not supported between a ", a.type_name(), " and a ", b.type_name());
}

Value CallArgs::get(size_t i, const std::string& name, Value fallback) const {
  if (i < positional.size()) return positional[i];
  for (const auto& [k, v] : keywords)
    if (k == name) return v;
  return fallback;
}

bool CallArgs::has(size_t i, const std::string& name) const {
  if (i < positional.size()) return true;
  for (const auto& kw : keywords)
    if (kw.first == name) return true;
  return false;
}

void CallArgs::expect(std::initializer_list<const char*> names) const {
  check(positional.size() <= names.size(), callee, " takes at most ", names.size(), " arguments (",
        positional.size(), " given)");
  for (const auto& kw : keywords)
    check(
        std::find_if(names.begin(), names.end(), [&](const char* n) { return kw.first == n; }) != names.end(),
        callee, " got an unexpected keyword argument '", kw.first, "'");
}

}  // namespace llmnpu::jinja
