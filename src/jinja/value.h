#pragma once
// The values a Jinja template computes with, behaving as their Python counterparts do under Jinja2:
// truthiness, equality, ordering, str() and repr() text, and JSON as Hugging Face's tojson writes it.
// Lists, dicts and namespaces are shared by reference, as Python objects are.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace llmnpu::jinja {

class Value;
using Array = std::vector<Value>;
// Insertion-ordered, as Python dicts are (templates print tools and arguments in the caller's order).
using Object = std::vector<std::pair<std::string, Value>>;
struct CallArgs;
using Function = std::function<Value(CallArgs&)>;

enum class Kind { Undefined, None, Bool, Int, Float, String, Array, Object, Function };

class Value {
 public:
  Value() = default;  // undefined
  static Value undefined(std::string name = "") {
    Value v;
    v.text_ = std::move(name);
    return v;
  }
  static Value none() { return Value(Kind::None); }
  Value(bool b) : kind_(Kind::Bool), int_(b) {}
  Value(int64_t i) : kind_(Kind::Int), int_(i) {}
  Value(int i) : kind_(Kind::Int), int_(i) {}
  Value(double d) : kind_(Kind::Float), float_(d) {}
  Value(std::string s) : kind_(Kind::String), text_(std::move(s)) {}
  Value(const char* s) : Value(std::string(s)) {}
  static Value array(Array items = {}, bool tuple = false);
  static Value object(Object items = {}, bool is_namespace = false);
  static Value function(std::string name, Function fn);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float; }  // bools are not, in Jinja
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }
  bool is_function() const { return kind_ == Kind::Function; }
  bool is_tuple() const { return kind_ == Kind::Array && tuple_; }
  bool is_namespace() const { return kind_ == Kind::Object && namespace_; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_number() const { return kind_ == Kind::Float ? float_ : double(int_); }
  const std::string& as_string() const { return text_; }
  // For an undefined value: the name it was looked up by ("" when unknown).
  const std::string& undefined_name() const { return text_; }
  Array& items() const { return *array_; }
  Object& fields() const { return *object_; }
  const Function& function() const { return *function_; }
  const std::string& function_name() const { return text_; }

  // A dict's value for key, or nullptr.
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v) const;  // dicts and namespaces

  bool truthy() const;
  // Python's str(): strings as they are, None -> "None", lists and dicts as their repr.
  std::string str() const;
  // Python's repr(): strings quoted.
  std::string repr() const;
  // json.dumps(value, ensure_ascii, indent, separators, sort_keys) as transformers' tojson filter calls
  // it (ensure_ascii=False by default). Throws Error for values JSON cannot hold (undefined, functions).
  struct JsonStyle {
    int indent = -1;  // < 0: one line
    bool sort_keys = false;
    bool ensure_ascii = false;
    std::string item_separator, key_separator;  // empty: json.dumps' defaults for the indent
  };
  std::string to_json(const JsonStyle& style) const;
  std::string to_json() const { return to_json(JsonStyle{}); }
  // A Jinja type name for messages: "string", "list", "dict", ...
  const char* type_name() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::Undefined;
  bool tuple_ = false, namespace_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string text_;  // string, undefined name, function name
  std::shared_ptr<Array> array_;
  std::shared_ptr<Object> object_;
  std::shared_ptr<Function> function_;
};

// Python ==, and the ordering of < (numbers, strings, lists); compare throws Error on other types.
bool equal(const Value& a, const Value& b);
int compare(const Value& a, const Value& b);
// Python's repr of a float ("1.0", "0.1", "1e-05", "1e+16", "inf").
std::string python_float_repr(double d);

// Positional and keyword arguments of a call (a global function, a filter, a test or a method).
struct CallArgs {
  std::string callee;  // for messages: "filter 'join'", "method 'split'"
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;

  // The argument at position i or with this name; fallback when neither was given.
  Value get(size_t i, const std::string& name, Value fallback = Value()) const;
  bool has(size_t i, const std::string& name) const;
  // Throws when more positional arguments came than names listed, or a keyword not listed.
  void expect(std::initializer_list<const char*> names) const;
};

}  // namespace llmnpu::jinja
