#include "jinja/builtins.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <limits>
#include <map>

#include "core/error.h"
#include "core/utf8.h"

namespace llmnpu::jinja {
namespace {

// Python's int(float) has unbounded integers; ours stop at int64, so a float beyond it is an error
// rather than the undefined behaviour of a narrowing cast.
int64_t float_to_int(double d) {
  check(!std::isnan(d), "cannot convert float NaN to integer");
  check(std::isfinite(d), "cannot convert float infinity to integer");
  check(d >= -9223372036854775808.0 && d < 9223372036854775808.0, "integer out of range: ", d);
  return int64_t(d);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An index written in digits; one too long for size_t cannot address anything.
size_t digits_to_index(const std::string& s) {
  return s.size() > 18 ? std::numeric_limits<size_t>::max() : size_t(std::stoull(s));
}

constexpr int64_t kMaxRange = 100000;  // as Jinja2's sandbox (MAX_RANGE)

// ---- Python string semantics on code points ----
bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
  const std::vector<uint32_t> cps = utf8::decode(s);
  std::vector<uint32_t> set;
  const bool by_set = chars.is_string();
  if (by_set) set = utf8::decode(chars.as_string());
  auto strippable = [&](uint32_t cp) {
    return by_set ? std::find(set.begin(), set.end(), cp) != set.end() : is_python_space(cp);
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strippable(cps[b])) ++b;
  if (right)
    while (e > b && strippable(cps[e - 1])) --e;
  return utf8::encode(std::vector<uint32_t>(cps.begin() + long(b), cps.begin() + long(e)));
}

std::string ascii_map(std::string s, int (*f)(int)) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x80) c = char(f(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(const std::string& s) {
  return ascii_map(s, [](int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; });
}
std::string lower(const std::string& s) {
  return ascii_map(s, [](int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
}
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string capitalize(const std::string& s) {
  std::string out = lower(s);
  if (!out.empty()) out[0] = upper(out.substr(0, 1))[0];
  return out;
}

// Jinja2's title filter: words begin after '-', whitespace or an opening bracket.
std::string jinja_title(const std::string& s) {
  std::string out;
  bool word_start = true;
  for (char c : s) {
    const bool separator = c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
                           c == '\v' || c == '(' || c == '{' || c == '[' || c == '<';
    if (separator) {
      out += c;
      word_start = true;
    } else {
      out += word_start ? upper(std::string(1, c)) : lower(std::string(1, c));
      word_start = false;
    }
  }
  return out;
}

// str.title(): a letter after a non-letter starts a word.
std::string python_title(const std::string& s) {
  std::string out;
  bool prev_letter = false;
  for (char c : s) {
    if (is_alpha(c)) {
      out += prev_letter ? lower(std::string(1, c)) : upper(std::string(1, c));
      prev_letter = true;
    } else {
      out += c;
      prev_letter = static_cast<unsigned char>(c) >= 0x80 && prev_letter;
    }
  }
  return out;
}

Array split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right = false) {
  Array parts;
  if (!sep.is_string() || sep.is_none()) {  // runs of whitespace, no empty parts
    const std::vector<uint32_t> cps = utf8::decode(s);
    std::vector<std::vector<uint32_t>> words;
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_python_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && int64_t(words.size()) == maxsplit && !from_right) {
        size_t e = cps.size();
        while (e > i && is_python_space(cps[e - 1])) --e;
        words.emplace_back(cps.begin() + long(i), cps.begin() + long(e));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !is_python_space(cps[j])) ++j;
      words.emplace_back(cps.begin() + long(i), cps.begin() + long(j));
      i = j;
    }
    for (auto& w : words) parts.push_back(Value(utf8::encode(w)));
    return parts;
  }
  const std::string& d = sep.as_string();
  check(!d.empty(), "split: empty separator");
  if (from_right && maxsplit >= 0) {
    std::vector<std::string> rev;
    size_t end = s.size();
    while (int64_t(rev.size()) < maxsplit) {
      if (end < d.size()) break;
      const size_t at = s.rfind(d, end - d.size());
      if (at == std::string::npos) break;
      rev.push_back(s.substr(at + d.size(), end - at - d.size()));
      end = at;
    }
    parts.push_back(Value(s.substr(0, end)));
    for (auto it = rev.rbegin(); it != rev.rend(); ++it) parts.push_back(Value(*it));
    return parts;
  }
  size_t start = 0;
  while (true) {
    const size_t at = s.find(d, start);
    if (at == std::string::npos || (maxsplit >= 0 && int64_t(parts.size()) == maxsplit)) break;
    parts.push_back(Value(s.substr(start, at - start)));
    start = at + d.size();
  }
  parts.push_back(Value(s.substr(start)));
  return parts;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  if (from.empty()) {  // Python inserts `to` around every code point
    const std::vector<uint32_t> cps = utf8::decode(s);
    int64_t n = 0;
    for (uint32_t cp : cps) {
      if (count < 0 || n++ < count) out += to;
      utf8::append(out, cp);
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += to;
    start = at + from.size();
    ++n;
  }
  out.append(s, start);
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const std::string& need_string(const Value& v, const std::string& what) {
  check(v.is_string(), what, " needs a string, got a ", v.type_name());
  return v.as_string();
}

int64_t need_int(const Value& v, const std::string& what) {
  check(v.is_int() || v.is_bool(), what, " needs an integer, got a ", v.type_name());
  return v.as_int();
}

// Python printf-style formatting: "%s" % value, the format filter.
std::string percent_format(const std::string& fmt, const Value& args) {
  Array values = args.is_tuple() ? args.items() : Array{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    check(i + 1 < fmt.size(), "format: incomplete format");
    size_t j = i + 1;
    std::string spec = "%";
    while (j < fmt.size() && std::string("-+ 0#").find(fmt[j]) != std::string::npos) spec += fmt[j++];
    while (j < fmt.size() && ((fmt[j] >= '0' && fmt[j] <= '9') || fmt[j] == '.')) spec += fmt[j++];
    check(j < fmt.size(), "format: incomplete format");
    const char conv = fmt[j];
    i = j;
    if (conv == '%') {
      out += '%';
      continue;
    }
    check(next < values.size(), "format: not enough arguments for format string");
    const Value& v = values[next++];
    char buf[512];
    if (conv == 's' || conv == 'r') {
      const std::string text = conv == 's' ? v.str() : v.repr();
      std::snprintf(buf, sizeof buf, (spec + "s").c_str(), "");
      out += spec == "%" ? text : [&] {
        std::snprintf(buf, sizeof buf, (spec + "s").c_str(), text.c_str());
        return std::string(buf);
      }();
    } else if (conv == 'd' || conv == 'i') {
      check(v.is_number() || v.is_bool(), "format: %d needs a number, got a ", v.type_name());
      std::snprintf(buf, sizeof buf, (spec + "lld").c_str(),
                    static_cast<long long>(v.is_float() ? float_to_int(v.as_number()) : v.as_int()));
      out += buf;
    } else if (conv == 'f' || conv == 'e' || conv == 'g' || conv == 'x' || conv == 'o') {
      check(v.is_number() || v.is_bool(), "format: %", conv, " needs a number, got a ", v.type_name());
      if (conv == 'x' || conv == 'o')
        std::snprintf(buf, sizeof buf, (spec + "ll" + conv).c_str(), static_cast<long long>(v.as_int()));
      else
        std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.as_number());
      out += buf;
    } else {
      fail("format: unsupported conversion '%", conv, "'");
    }
  }
  check(next == values.size() || !args.is_tuple(),
        "format: not all arguments converted during string formatting");
  return out;
}

// str.format with "{}", "{0}" and "{name}" fields (no format specs).
std::string brace_format(const std::string& fmt, CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const size_t close = fmt.find('}', i);
      check(close != std::string::npos, "str.format: unmatched '{'");
      const std::string field = fmt.substr(i + 1, close - i - 1);
      check(field.find_first_of(":!") == std::string::npos, "str.format: format specs are not supported");
      Value v;
      if (field.empty()) {
        check(auto_index < args.positional.size(), "str.format: not enough arguments");
        v = args.positional[auto_index++];
      } else if (all_digits(field)) {
        const size_t k = digits_to_index(field);
        check(k < args.positional.size(), "str.format: no argument ", k);
        v = args.positional[k];
      } else {
        check(args.has(size_t(-1), field), "str.format: no argument '", field, "'");
        v = args.get(size_t(-1), field);
      }
      out += v.str();
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

// Attribute lookup the way Jinja2's getattr filters (map, selectattr, sort) do: dotted paths, items.
Value get_attribute_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_object()) {
      const Value* f = cur.find(part);
      cur = f ? *f : Value::undefined(part);
    } else if (cur.is_array() && all_digits(part)) {
      const size_t k = digits_to_index(part);
      cur = k < cur.items().size() ? cur.items()[k] : Value::undefined(part);
    } else {
      cur = Value::undefined(part);
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value to_list(const Value& v) { return Value::array(iterate(v)); }

int64_t to_int(const Value& v, const Value& fallback, int base) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  if (v.is_float()) return float_to_int(v.as_number());
  if (v.is_string()) {
    std::string s = strip(v.as_string(), Value(), true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(s.c_str(), &end, base);
    if (!s.empty() && *end == 0 && errno == 0) return n;
    const double d = std::strtod(s.c_str(), &end);  // Jinja2 falls back to int(float(s))
    if (!s.empty() && *end == 0 && std::isfinite(d)) return float_to_int(d);
  }
  return fallback.is_undefined() ? 0 : fallback.as_int();
}

double to_float(const Value& v, double fallback) {
  if (v.is_number() || v.is_bool()) return v.as_number();
  if (v.is_string()) {
    const std::string s = strip(v.as_string(), Value(), true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && *end == 0) return d;
  }
  return fallback;
}

// Python's round() (banker's rounding on the exact binary value) for the 'common' method Jinja2 uses:
// Jinja2 calls round(value, precision), which rounds half to even.
double python_round(double x, int64_t digits) {
  const double scale = std::pow(10.0, double(digits));
  const double y = x * scale;
  double r = std::nearbyint(y);  // current rounding mode: to nearest even
  if (std::fabs(y - std::trunc(y)) != 0.5) r = std::round(y);
  return r / scale;
}

Value sorted(const Value& input, bool reverse, bool case_sensitive, const Value& attribute) {
  Array items = iterate(input);
  auto key = [&](const Value& v) {
    Value k = attribute.is_string() ? get_attribute_path(v, attribute.as_string()) : v;
    if (!case_sensitive && k.is_string()) return Value(lower(k.as_string()));
    return k;
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    return reverse ? compare(key(b), key(a)) < 0 : compare(key(a), key(b)) < 0;
  });
  return Value::array(std::move(items));
}

// select / reject / selectattr / rejectattr: keep items whose test (or truthiness) is `keep`.
Value select_items(const Value& input, CallArgs& args, bool keep, bool by_attribute) {
  Array out;
  size_t first = 0;
  std::string attribute;
  if (by_attribute) {
    check(!args.positional.empty(), args.callee, " needs an attribute name");
    attribute = need_string(args.positional[0], args.callee);
    first = 1;
  }
  for (const Value& item : iterate(input)) {
    const Value subject = by_attribute ? get_attribute_path(item, attribute) : item;
    bool result;
    if (args.positional.size() > first) {
      CallArgs test_args;
      test_args.callee = str("test '", need_string(args.positional[first], args.callee), "'");
      test_args.positional.assign(args.positional.begin() + long(first) + 1, args.positional.end());
      result = apply_test(args.positional[first].as_string(), subject, test_args);
    } else {
      result = subject.truthy();
    }
    if (result == keep) out.push_back(item);
  }
  return Value::array(std::move(out));
}

using FilterFn = std::function<Value(const Value&, CallArgs&)>;

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> table = [] {
    std::map<std::string, FilterFn> f;
    f["abs"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      check(v.is_number() || v.is_bool(), "abs needs a number, got a ", v.type_name());
      return v.is_float() ? Value(std::fabs(v.as_number()))
                          : Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    };
    f["attr"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"name"});
      const Value* field = v.is_object() ? v.find(need_string(a.get(0, "name"), "attr")) : nullptr;
      return field ? *field : Value::undefined();
    };
    f["capitalize"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(capitalize(v.str()));
    };
    f["default"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"default_value", "boolean"});
      const bool boolean = a.get(1, "boolean", Value(false)).truthy();
      if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value(""));
      return v;
    };
    f["d"] = f["default"];
    f["dictsort"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"case_sensitive", "by", "reverse"});
      check(v.is_object(), "dictsort needs a dict, got a ", v.type_name());
      const bool by_value = a.get(1, "by", Value("key")).str() == "value";
      const bool case_sensitive = a.get(0, "case_sensitive", Value(false)).truthy();
      Array pairs;
      for (const auto& [k, x] : v.fields()) pairs.push_back(Value::array({Value(k), x}, true));
      std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& p, const Value& q) {
        Value x = p.items()[by_value], y = q.items()[by_value];
        if (!case_sensitive && x.is_string()) x = Value(lower(x.as_string()));
        if (!case_sensitive && y.is_string()) y = Value(lower(y.as_string()));
        return compare(x, y) < 0;
      });
      if (a.get(2, "reverse", Value(false)).truthy()) std::reverse(pairs.begin(), pairs.end());
      return Value::array(std::move(pairs));
    };
    f["escape"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(html_escape(v.str()));
    };
    f["e"] = f["escape"];
    f["forceescape"] = f["escape"];
    f["first"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      Array items = iterate(v);
      return items.empty() ? Value::undefined("first") : items.front();
    };
    f["last"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      Array items = iterate(v);
      return items.empty() ? Value::undefined("last") : items.back();
    };
    f["float"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"default"});
      return Value(to_float(v, a.get(0, "default", Value(0.0)).as_number()));
    };
    f["format"] = [](const Value& v, CallArgs& a) -> Value {
      check(a.keywords.empty(), "format: keyword arguments are not supported");
      return Value(percent_format(need_string(v, "format"), Value::array(a.positional, true)));
    };
    f["indent"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"width", "first", "blank"});
      const Value w = a.get(0, "width", Value(4));
      const std::string pad = w.is_string()
                                  ? w.as_string()
                                  : std::string(size_t(std::max<int64_t>(0, need_int(w, "indent"))), ' ');
      const bool first = a.get(1, "first", Value(false)).truthy(),
                 blank = a.get(2, "blank", Value(false)).truthy();
      // Jinja2: lines after the first get the indent (blank ones only with blank=True), the first with
      // first=True.
      const Array lines = split(v.str(), Value("\n"), -1);
      std::string out = lines[0].as_string();
      for (size_t i = 1; i < lines.size(); ++i) {
        const std::string& line = lines[i].as_string();
        out += "\n" + ((blank || !line.empty()) ? pad : std::string()) + line;
      }
      if (first) out = pad + out;
      return Value(out);
    };
    f["int"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"default", "base"});
      return Value(
          to_int(v, a.get(0, "default", Value(0)), int(need_int(a.get(1, "base", Value(10)), "int"))));
    };
    f["items"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      if (v.is_undefined()) return Value::array();
      check(v.is_object(), "items needs a dict, got a ", v.type_name());
      Array pairs;
      for (const auto& [k, x] : v.fields()) pairs.push_back(Value::array({Value(k), x}, true));
      return Value::array(std::move(pairs));
    };
    f["join"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"d", "attribute"});
      const std::string sep = a.get(0, "d", Value("")).str();
      const Value attribute = a.get(1, "attribute");
      std::string out;
      bool first = true;
      for (const Value& item : iterate(v)) {
        if (!first) out += sep;
        first = false;
        const bool plain = attribute.is_undefined() || attribute.is_none();
        out += (plain ? item : get_attribute_path(item, attribute.str())).str();
      }
      return Value(out);
    };
    f["length"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(length_of(v));
    };
    f["count"] = f["length"];
    f["list"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return to_list(v);
    };
    f["lower"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(lower(v.str()));
    };
    f["upper"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(upper(v.str()));
    };
    f["map"] = [](const Value& v, CallArgs& a) -> Value {
      Array out;
      const Value attribute = a.get(size_t(-1), "attribute");
      if (!attribute.is_undefined()) {
        const Value fallback = a.get(size_t(-1), "default");
        for (const Value& item : iterate(v)) {
          Value x = get_attribute_path(item, attribute.str());
          out.push_back(x.is_undefined() && !fallback.is_undefined() ? fallback : x);
        }
        return Value::array(std::move(out));
      }
      check(!a.positional.empty(), "map needs a filter name or attribute=");
      const std::string name = need_string(a.positional[0], "map");
      CallArgs inner;
      inner.callee = str("filter '", name, "'");
      inner.positional.assign(a.positional.begin() + 1, a.positional.end());
      inner.keywords = a.keywords;
      for (const Value& item : iterate(v)) {
        CallArgs copy = inner;
        out.push_back(apply_filter(name, item, copy));
      }
      return Value::array(std::move(out));
    };
    f["max"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"case_sensitive", "attribute"});
      Value s = sorted(v, false, a.get(0, "case_sensitive", Value(false)).truthy(), a.get(1, "attribute"));
      return s.items().empty() ? Value::undefined("max") : s.items().back();
    };
    f["min"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"case_sensitive", "attribute"});
      Value s = sorted(v, false, a.get(0, "case_sensitive", Value(false)).truthy(), a.get(1, "attribute"));
      return s.items().empty() ? Value::undefined("min") : s.items().front();
    };
    f["reject"] = [](const Value& v, CallArgs& a) { return select_items(v, a, false, false); };
    f["rejectattr"] = [](const Value& v, CallArgs& a) { return select_items(v, a, false, true); };
    f["select"] = [](const Value& v, CallArgs& a) { return select_items(v, a, true, false); };
    f["selectattr"] = [](const Value& v, CallArgs& a) { return select_items(v, a, true, true); };
    f["replace"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"old", "new", "count"});
      const Value count = a.get(2, "count", Value::none());
      return Value(replace(v.str(), a.get(0, "old").str(), a.get(1, "new").str(),
                           count.is_none() ? -1 : need_int(count, "replace")));
    };
    f["reverse"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      if (v.is_string()) {
        std::vector<uint32_t> cps = utf8::decode(v.as_string());
        std::reverse(cps.begin(), cps.end());
        return Value(utf8::encode(cps));
      }
      Array items = iterate(v);
      std::reverse(items.begin(), items.end());
      return Value::array(std::move(items));
    };
    f["round"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"precision", "method"});
      const int64_t precision = need_int(a.get(0, "precision", Value(0)), "round");
      const std::string method = a.get(1, "method", Value("common")).str();
      const double x = to_float(v, 0), scale = std::pow(10.0, double(precision));
      if (method == "ceil") return Value(std::ceil(x * scale) / scale);
      if (method == "floor") return Value(std::floor(x * scale) / scale);
      check(method == "common", "round: method must be common, ceil or floor");
      return Value(python_round(x, precision));
    };
    f["safe"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return v;
    };
    f["sort"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"reverse", "case_sensitive", "attribute"});
      return sorted(v, a.get(0, "reverse", Value(false)).truthy(),
                    a.get(1, "case_sensitive", Value(false)).truthy(), a.get(2, "attribute"));
    };
    f["string"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(v.str());
    };
    f["sum"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"attribute", "start"});
      const Value attribute = a.get(0, "attribute");
      Value total = a.get(1, "start", Value(0));
      for (const Value& item : iterate(v)) {
        const Value x = attribute.is_undefined() ? item : get_attribute_path(item, attribute.str());
        check((x.is_number() || x.is_bool()) && (total.is_number() || total.is_bool()),
              "sum needs numbers, got a ", x.type_name());
        total = x.is_float() || total.is_float() ? Value(total.as_number() + x.as_number())
                                                 : Value(total.as_int() + x.as_int());
      }
      return total;
    };
    f["title"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(jinja_title(v.str()));
    };
    f["tojson"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"ensure_ascii", "indent", "separators", "sort_keys"});
      Value::JsonStyle style;
      style.ensure_ascii = a.get(0, "ensure_ascii", Value(false)).truthy();
      const Value indent = a.get(1, "indent", Value::none());
      if (!indent.is_none())
        style.indent = int(std::clamp<int64_t>(need_int(indent, "tojson indent"), 0, 64));
      const Value separators = a.get(2, "separators", Value::none());
      if (!separators.is_none()) {
        check(separators.is_array() && separators.items().size() == 2, "tojson: separators must be a pair");
        style.item_separator = need_string(separators.items()[0], "tojson separators");
        style.key_separator = need_string(separators.items()[1], "tojson separators");
      }
      style.sort_keys = a.get(3, "sort_keys", Value(false)).truthy();
      return Value(v.to_json(style));
    };
    f["trim"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"chars"});
      return Value(strip(v.str(), a.get(0, "chars", Value::none()), true, true));
    };
    f["unique"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"case_sensitive", "attribute"});
      const bool case_sensitive = a.get(0, "case_sensitive", Value(false)).truthy();
      const Value attribute = a.get(1, "attribute");
      Array out, keys;
      for (const Value& item : iterate(v)) {
        Value k = attribute.is_undefined() ? item : get_attribute_path(item, attribute.str());
        if (!case_sensitive && k.is_string()) k = Value(lower(k.as_string()));
        if (std::none_of(keys.begin(), keys.end(), [&](const Value& seen) { return equal(seen, k); })) {
          keys.push_back(k);
          out.push_back(item);
        }
      }
      return Value::array(std::move(out));
    };
    f["wordcount"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({});
      return Value(int64_t(split(v.str(), Value(), -1).size()));
    };
    f["center"] = [](const Value& v, CallArgs& a) -> Value {
      a.expect({"width"});
      const std::string s = v.str();
      const int64_t width = need_int(a.get(0, "width", Value(80)), "center"), n = length_of(Value(s));
      if (width <= n) return Value(s);
      const int64_t total = width - n, left = total / 2 + (total & width & 1);
      return Value(std::string(size_t(left), ' ') + s + std::string(size_t(total - left), ' '));
    };
    return f;
  }();
  return table;
}

using TestFn = std::function<bool(const Value&, CallArgs&)>;

const std::map<std::string, TestFn>& tests() {
  static const std::map<std::string, TestFn> table = [] {
    std::map<std::string, TestFn> t;
    auto simple = [&](const char* name, bool (*fn)(const Value&)) {
      t[name] = [fn](const Value& v, CallArgs& a) {
        a.expect({});
        return fn(v);
      };
    };
    simple("defined", [](const Value& v) { return !v.is_undefined(); });
    simple("undefined", [](const Value& v) { return v.is_undefined(); });
    simple("none", [](const Value& v) { return v.is_none(); });
    simple("boolean", [](const Value& v) { return v.is_bool(); });
    simple("true", [](const Value& v) { return v.is_bool() && v.as_bool(); });
    simple("false", [](const Value& v) { return v.is_bool() && !v.as_bool(); });
    simple("integer", [](const Value& v) { return v.is_int(); });
    simple("float", [](const Value& v) { return v.is_float(); });
    simple("number", [](const Value& v) { return v.is_number() || v.is_bool(); });
    simple("string", [](const Value& v) { return v.is_string(); });
    simple("mapping", [](const Value& v) { return v.is_object() && !v.is_namespace(); });
    simple("iterable",
           [](const Value& v) { return v.is_array() || v.is_object() || v.is_string() || v.is_undefined(); });
    simple("sequence", [](const Value& v) { return v.is_array() || v.is_object() || v.is_string(); });
    simple("callable", [](const Value& v) { return v.is_function(); });
    simple("escaped", [](const Value&) { return false; });
    simple("lower", [](const Value& v) { return v.is_string() && lower(v.as_string()) == v.as_string(); });
    simple("upper", [](const Value& v) { return v.is_string() && upper(v.as_string()) == v.as_string(); });
    simple("odd", [](const Value& v) { return need_int(v, "test 'odd'") % 2 != 0; });
    simple("even", [](const Value& v) { return need_int(v, "test 'even'") % 2 == 0; });
    auto binary = [&](std::initializer_list<const char*> names, bool (*fn)(const Value&, const Value&)) {
      for (const char* name : names)
        t[name] = [fn](const Value& v, CallArgs& a) {
          a.expect({"other"});
          check(a.has(0, "other"), a.callee, " needs an argument");
          return fn(v, a.get(0, "other"));
        };
    };
    binary({"eq", "equalto", "=="}, [](const Value& a, const Value& b) { return equal(a, b); });
    binary({"ne", "!="}, [](const Value& a, const Value& b) { return !equal(a, b); });
    binary({"lt", "lessthan", "<"}, [](const Value& a, const Value& b) { return compare(a, b) < 0; });
    binary({"le", "<="}, [](const Value& a, const Value& b) { return compare(a, b) <= 0; });
    binary({"gt", "greaterthan", ">"}, [](const Value& a, const Value& b) { return compare(a, b) > 0; });
    binary({"ge", ">="}, [](const Value& a, const Value& b) { return compare(a, b) >= 0; });
    binary({"sameas"}, [](const Value& a, const Value& b) {
      if (a.kind() != b.kind()) return false;
      if (a.is_array()) return &a.items() == &b.items();
      if (a.is_object()) return &a.fields() == &b.fields();
      return equal(a, b);
    });
    binary({"in"}, [](const Value& a, const Value& b) {
      if (b.is_string()) return a.is_string() && b.as_string().find(a.as_string()) != std::string::npos;
      if (b.is_object()) return a.is_string() && b.find(a.as_string()) != nullptr;
      for (const Value& x : iterate(b))
        if (equal(x, a)) return true;
      return false;
    });
    binary({"divisibleby"}, [](const Value& a, const Value& b) {
      const int64_t d = need_int(b, "test 'divisibleby'");
      check(d != 0, "divisibleby 0");
      return need_int(a, "test 'divisibleby'") % d == 0;
    });
    return t;
  }();
  return table;
}

// Methods: a callable capturing self.
Value method(const Value& self, const char* name, std::function<Value(const Value&, CallArgs&)> fn) {
  return Value::function(name, [self, fn, name](CallArgs& a) {
    a.callee = str("method '", name, "'");
    return fn(self, a);
  });
}

Value string_method(const Value& self, const std::string& name) {
  const auto pred = [](bool (*p)(uint32_t)) {
    return [p](const Value& s, CallArgs& a) -> Value {
      a.expect({});
      const std::vector<uint32_t> cps = utf8::decode(s.as_string());
      return Value(!cps.empty() && std::all_of(cps.begin(), cps.end(), p));
    };
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool left = name != "rstrip", right = name != "lstrip";
    return method(self,
                  name == "strip" ? "strip"
                  : left          ? "lstrip"
                                  : "rstrip",
                  [left, right](const Value& s, CallArgs& a) {
                    a.expect({"chars"});
                    return Value(strip(s.as_string(), a.get(0, "chars", Value::none()), left, right));
                  });
  }
  if (name == "split" || name == "rsplit") {
    const bool right = name == "rsplit";
    return method(self, right ? "rsplit" : "split", [right](const Value& s, CallArgs& a) {
      a.expect({"sep", "maxsplit"});
      return Value::array(split(s.as_string(), a.get(0, "sep", Value::none()),
                                need_int(a.get(1, "maxsplit", Value(-1)), "split"), right));
    });
  }
  if (name == "splitlines")
    return method(self, "splitlines", [](const Value& s, CallArgs& a) {
      a.expect({"keepends"});
      Array lines;
      const std::string& t = s.as_string();
      size_t start = 0;
      while (start < t.size()) {
        size_t nl = t.find('\n', start);
        if (nl == std::string::npos) nl = t.size();
        size_t end = nl;
        if (end > start && t[end - 1] == '\r') --end;
        lines.push_back(Value(
            t.substr(start, a.get(0, "keepends", Value(false)).truthy() ? nl + 1 - start : end - start)));
        start = nl + 1;
      }
      return Value::array(std::move(lines));
    });
  if (name == "startswith" || name == "endswith") {
    const bool starts = name == "startswith";
    return method(self, starts ? "startswith" : "endswith", [starts](const Value& s, CallArgs& a) {
      a.expect({"prefix"});
      const Value p = a.get(0, "prefix");
      const Array options = p.is_array() ? p.items() : Array{p};
      for (const Value& o : options) {
        const std::string& x = need_string(o, a.callee);
        const std::string& t = s.as_string();
        if (x.size() <= t.size() &&
            (starts ? t.compare(0, x.size(), x) == 0 : t.compare(t.size() - x.size(), x.size(), x) == 0))
          return Value(true);
      }
      return Value(false);
    });
  }
  if (name == "upper")
    return method(self, "upper", [](const Value& s, CallArgs& a) {
      a.expect({});
      return Value(upper(s.as_string()));
    });
  if (name == "lower")
    return method(self, "lower", [](const Value& s, CallArgs& a) {
      a.expect({});
      return Value(lower(s.as_string()));
    });
  if (name == "title")
    return method(self, "title", [](const Value& s, CallArgs& a) {
      a.expect({});
      return Value(python_title(s.as_string()));
    });
  if (name == "capitalize")
    return method(self, "capitalize", [](const Value& s, CallArgs& a) {
      a.expect({});
      return Value(capitalize(s.as_string()));
    });
  if (name == "replace")
    return method(self, "replace", [](const Value& s, CallArgs& a) {
      a.expect({"old", "new", "count"});
      return Value(replace(s.as_string(), need_string(a.get(0, "old"), a.callee),
                           need_string(a.get(1, "new"), a.callee),
                           need_int(a.get(2, "count", Value(-1)), a.callee)));
    });
  if (name == "find" || name == "rfind" || name == "count") {
    const std::string n = name;
    return method(self,
                  n == "find"    ? "find"
                  : n == "rfind" ? "rfind"
                                 : "count",
                  [n](const Value& s, CallArgs& a) -> Value {
                    a.expect({"sub"});
                    const std::string sub = need_string(a.get(0, "sub"), a.callee);
                    const std::string& t = s.as_string();
                    if (n == "count") {
                      if (sub.empty()) return Value(length_of(s) + 1);
                      int64_t c = 0;
                      for (size_t at = t.find(sub); at != std::string::npos;
                           at = t.find(sub, at + sub.size()))
                        ++c;
                      return Value(c);
                    }
                    const size_t at = n == "find" ? t.find(sub) : t.rfind(sub);
                    if (at == std::string::npos) return Value(-1);
                    return Value(int64_t(utf8::decode(t.substr(0, at)).size()));  // code point index
                  });
  }
  if (name == "join")
    return method(self, "join", [](const Value& s, CallArgs& a) {
      a.expect({"iterable"});
      std::string out;
      bool first = true;
      for (const Value& item : iterate(a.get(0, "iterable"))) {
        if (!first) out += s.as_string();
        first = false;
        out += need_string(item, a.callee);
      }
      return Value(out);
    });
  if (name == "format")
    return method(self, "format",
                  [](const Value& s, CallArgs& a) { return Value(brace_format(s.as_string(), a)); });
  if (name == "isdigit")
    return method(self, "isdigit", pred([](uint32_t c) { return c >= '0' && c <= '9'; }));
  if (name == "isspace") return method(self, "isspace", pred(is_python_space));
  if (name == "isalpha")
    return method(self, "isalpha", pred([](uint32_t c) { return c < 0x80 && is_alpha(char(c)); }));
  return Value::undefined(name);
}

Value dict_method(const Value& self, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    const int which = name == "items" ? 0 : name == "keys" ? 1 : 2;
    return method(
        self,
        which == 0   ? "items"
        : which == 1 ? "keys"
                     : "values",
        [which](const Value& d, CallArgs& a) {
          a.expect({});
          Array out;
          for (const auto& [k, v] : d.fields())
            out.push_back(which == 0 ? Value::array({Value(k), v}, true) : which == 1 ? Value(k) : v);
          return Value::array(std::move(out));
        });
  }
  if (name == "get")
    return method(self, "get", [](const Value& d, CallArgs& a) {
      a.expect({"key", "default"});
      const Value key = a.get(0, "key");
      const Value* v = key.is_string() ? d.find(key.as_string()) : nullptr;
      return v ? *v : a.get(1, "default", Value::none());
    });
  return Value::undefined(name);
}

Value list_method(const Value& self, const std::string& name) {
  if (name == "index" || name == "count") {
    const bool index = name == "index";
    return method(self, index ? "index" : "count", [index](const Value& l, CallArgs& a) -> Value {
      a.expect({"value"});
      const Value x = a.get(0, "value");
      int64_t c = 0;
      for (size_t i = 0; i < l.items().size(); ++i)
        if (equal(l.items()[i], x)) {
          if (index) return Value(int64_t(i));
          ++c;
        }
      check(!index, x.repr(), " is not in list");
      return Value(c);
    });
  }
  if (name == "append" || name == "extend" || name == "pop" || name == "insert" || name == "remove" ||
      name == "clear" || name == "sort" || name == "reverse")
    return method(self, "append", [name](const Value&, CallArgs&) -> Value {
      fail("chat template: lists are immutable in the sandbox (list.", name, ")");
    });
  return Value::undefined(name);
}

}  // namespace

Array iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: return {};
    case Kind::Array: return v.items();
    case Kind::Object: {
      check(!v.is_namespace(), "a namespace is not iterable");
      Array keys;
      for (const auto& f : v.fields()) keys.push_back(Value(f.first));
      return keys;
    }
    case Kind::String: {
      Array chars;
      for (uint32_t cp : utf8::decode(v.as_string())) {
        std::string c;
        utf8::append(c, cp);
        chars.push_back(Value(std::move(c)));
      }
      return chars;
    }
    default: fail("'", v.type_name(), "' object is not iterable");
  }
}

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: return 0;
    case Kind::String: return int64_t(utf8::decode(v.as_string()).size());
    case Kind::Array: return int64_t(v.items().size());
    case Kind::Object: return int64_t(v.fields().size());
    default: fail("object of type '", v.type_name(), "' has no len()");
  }
}

bool has_filter(const std::string& name) { return filters().count(name) > 0; }
bool has_test(const std::string& name) { return tests().count(name) > 0; }

Value apply_filter(const std::string& name, const Value& input, CallArgs& args) {
  const auto it = filters().find(name);
  check(it != filters().end(), "chat template: unsupported filter '", name, "'");
  args.callee = str("filter '", name, "'");
  return it->second(input, args);
}

bool apply_test(const std::string& name, const Value& input, CallArgs& args) {
  const auto it = tests().find(name);
  check(it != tests().end(), "chat template: unsupported test '", name, "'");
  args.callee = str("test '", name, "'");
  return it->second(input, args);
}

Value bound_method(const Value& self, const std::string& name) {
  if (self.is_string()) return string_method(self, name);
  if (self.is_object() && !self.is_namespace()) return dict_method(self, name);
  if (self.is_array()) return list_method(self, name);
  return Value::undefined(name);
}

Value global_function(const std::string& name) {
  if (name == "range")
    return Value::function("range", [](CallArgs& a) {
      check(a.keywords.empty() && !a.positional.empty() && a.positional.size() <= 3,
            "range takes 1 to 3 integers");
      int64_t start = 0, stop, step = 1;
      if (a.positional.size() == 1) {
        stop = need_int(a.positional[0], "range");
      } else {
        start = need_int(a.positional[0], "range");
        stop = need_int(a.positional[1], "range");
        if (a.positional.size() == 3) step = need_int(a.positional[2], "range");
      }
      check(step != 0, "range: step must not be zero");
      const int64_t n = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                                 : (start > stop ? (start - stop - step - 1) / -step : 0);
      check(n <= kMaxRange, "range too big: the sandbox allows at most ", kMaxRange, " items");
      Array out;
      for (int64_t i = 0; i < n; ++i) out.push_back(Value(start + i * step));
      return Value::array(std::move(out));
    });
  if (name == "namespace" || name == "dict") {
    const bool ns = name == "namespace";
    return Value::function(name, [ns](CallArgs& a) {
      Object fields;
      for (const Value& p : a.positional) {  // namespace({...}) / dict({...})
        check(p.is_object(), ns ? "namespace" : "dict", " takes a dict or keyword arguments");
        for (const auto& f : p.fields()) fields.push_back(f);
      }
      for (auto& [k, v] : a.keywords) fields.emplace_back(k, v);
      return Value::object(std::move(fields), ns);
    });
  }
  if (name == "raise_exception")
    return Value::function("raise_exception", [](CallArgs& a) -> Value {
      fail("chat template raised an error: ", a.get(0, "message", Value("")).str());
    });
  if (name == "strftime_now")
    return Value::function("strftime_now", [](CallArgs& a) {
      a.callee = "strftime_now";
      a.expect({"format"});
      const std::string format = need_string(a.get(0, "format"), "strftime_now");
      const std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      char buf[256];
      const size_t n = format.empty() ? 0 : std::strftime(buf, sizeof buf, format.c_str(), &local);
      return Value(std::string(buf, n));
    });
  return Value::undefined(name);
}

}  // namespace llmnpu::jinja
