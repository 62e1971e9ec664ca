#include "jinja/template.h"

#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "core/utf8.h"
#include "jinja/builtins.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace llmnpu::jinja {
namespace {

// Variables of one scope: the template's top level, a loop body, a macro call. Loops see their
// parent's variables, and their own assignments vanish at the end of the loop, as in Jinja2.
struct Frame {
  std::unordered_map<std::string, Value> vars;
  const Frame* parent = nullptr;
};

enum class Flow { Normal, Break, Continue };

class Interpreter {
 public:
  Interpreter(const Value& variables, const RenderLimits& limits) : limits_(limits) {
    if (variables.is_object())
      for (const auto& [k, v] : variables.fields()) root_.vars[k] = v;
  }

  std::string run(const Body& body) {
    std::string out;
    out_ = &out;
    frame_ = &root_;
    exec(body);
    return out;
  }

 private:
  [[noreturn]] static void error_at(int line, const std::string& what) {
    fail("chat template line ", line, ": ", what);
  }

  void write(const std::string& s) {
    if (out_->size() + s.size() > limits_.max_output_bytes)
      fail("chat template: output exceeds ", limits_.max_output_bytes, " bytes");
    out_->append(s);
  }

  Value lookup(const std::string& name) const {
    for (const Frame* f = frame_; f; f = f->parent) {
      auto it = f->vars.find(name);
      if (it != f->vars.end()) return it->second;
    }
    Value g = global_function(name);
    return g.is_undefined() ? Value::undefined(name) : g;
  }

  void assign(const std::string& name, Value v) { frame_->vars[name] = std::move(v); }

  // ---- statements ----
  Flow exec(const Body& body) {
    for (const StmtPtr& s : body) {
      const Flow flow = exec(*s);
      if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
  }

  Flow exec(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::Text: write(s.text); return Flow::Normal;
      case StmtKind::Output: write(eval(*s.expr).str()); return Flow::Normal;
      case StmtKind::If:
        for (size_t i = 0; i < s.bodies.size(); ++i)
          if (i >= s.conditions.size() || eval(*s.conditions[i]).truthy()) return exec(s.bodies[i]);
        return Flow::Normal;
      case StmtKind::For: exec_for(s); return Flow::Normal;
      case StmtKind::Set: {
        Value v = eval(*s.expr);
        if (!s.text.empty()) {
          Value target = lookup(s.targets[0]);
          if (!target.is_namespace())
            error_at(s.line, str("cannot assign attribute '", s.text, "' of ", s.targets[0], " (a ",
                                 target.type_name(), ", not a namespace)"));
          target.set(s.text, std::move(v));
        } else {
          assign_targets(s.targets, v, s.line);
        }
        return Flow::Normal;
      }
      case StmtKind::SetBlock: {
        Value v(capture(s.bodies[0]));
        if (s.filter_expr) v = eval_with_block(*s.filter_expr, std::move(v));
        assign(s.targets[0], std::move(v));
        return Flow::Normal;
      }
      case StmtKind::Macro: assign(s.text, make_macro(s)); return Flow::Normal;
      case StmtKind::CallBlock: {
        const Stmt* body_stmt = &s;
        const Frame* defining = frame_;
        pending_caller_ = Value::function("caller", [this, body_stmt, defining](CallArgs&) {
          Frame frame{{}, defining};
          Frame* saved = frame_;
          frame_ = &frame;
          std::string text = capture(body_stmt->bodies[0]);
          frame_ = saved;
          return Value(std::move(text));
        });
        write(eval(*s.expr).str());
        pending_caller_ = Value();
        return Flow::Normal;
      }
      case StmtKind::FilterBlock:
        write(eval_with_block(*s.filter_expr, Value(capture(s.bodies[0]))).str());
        return Flow::Normal;
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
      case StmtKind::Scope: return exec(s.bodies[0]);
    }
    return Flow::Normal;
  }

  std::string capture(const Body& body) {
    std::string buffer;
    std::string* saved = out_;
    out_ = &buffer;
    exec(body);
    out_ = saved;
    return buffer;
  }

  Value eval_with_block(const Expr& filter_chain, Value block) {
    Frame frame{{{"\x01block", std::move(block)}}, frame_};
    Frame* saved = frame_;
    frame_ = &frame;
    Value v = eval(filter_chain);
    frame_ = saved;
    return v;
  }

  void assign_targets(const std::vector<std::string>& targets, const Value& v, int line) {
    if (targets.size() == 1) {
      assign(targets[0], v);
      return;
    }
    const Array items = iterate(v);
    if (items.size() != targets.size())
      error_at(line, str("cannot unpack ", items.size(), " values into ", targets.size(), " names"));
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
  }

  void count_iteration(int line) {
    if (++iterations_ > limits_.max_loop_iterations)
      error_at(line, str("more than ", limits_.max_loop_iterations, " loop iterations"));
  }

  void exec_for(const Stmt& s) {
    const Array all = iterate(eval(*s.expr));
    Frame frame{{}, frame_};
    Frame* saved = frame_;
    frame_ = &frame;
    Array items;
    if (s.condition) {  // the inline filter runs before loop.index and loop.length exist
      for (const Value& item : all) {
        count_iteration(s.line);
        assign_targets(s.targets, item, s.line);
        if (eval(*s.condition).truthy()) items.push_back(item);
      }
      frame.vars.clear();
    } else {
      items = all;
    }
    const int64_t n = int64_t(items.size());
    for (int64_t i = 0; i < n; ++i) {
      count_iteration(s.line);
      frame.vars.clear();  // each iteration starts from the enclosing scope's values, as in Jinja2
      assign_targets(s.targets, items[size_t(i)], s.line);
      Object loop{{"index", Value(i + 1)},
                  {"index0", Value(i)},
                  {"revindex", Value(n - i)},
                  {"revindex0", Value(n - i - 1)},
                  {"first", Value(i == 0)},
                  {"last", Value(i == n - 1)},
                  {"length", Value(n)},
                  {"depth", Value(1)},
                  {"depth0", Value(0)},
                  {"previtem", i > 0 ? items[size_t(i - 1)] : Value::undefined("previtem")},
                  {"nextitem", i + 1 < n ? items[size_t(i + 1)] : Value::undefined("nextitem")}};
      loop.emplace_back("cycle", Value::function("cycle", [i](CallArgs& a) {
                          check(!a.positional.empty(), "loop.cycle needs at least one value");
                          return a.positional[size_t(i) % a.positional.size()];
                        }));
      assign("loop", Value::object(std::move(loop)));
      if (exec(s.bodies[0]) == Flow::Break) break;
    }
    frame_ = saved;
    if (n == 0 && s.bodies.size() > 1) exec(s.bodies[1]);
  }

  Value make_macro(const Stmt& s) {
    const Stmt* macro = &s;
    return Value::function(s.text, [this, macro](CallArgs& args) {
      if (args.positional.size() > macro->targets.size())
        error_at(macro->line, str("macro '", macro->text, "' takes not more than ", macro->targets.size(),
                                  " argument(s)"));
      if (++call_depth_ > limits_.max_call_depth)
        error_at(macro->line, str("macro calls nested deeper than ", limits_.max_call_depth));
      Frame frame{{}, &root_};
      for (const auto& [k, v] : args.keywords) {
        bool known = false;
        for (const auto& p : macro->targets) known |= p == k;
        if (!known)
          error_at(macro->line, str("macro '", macro->text, "' takes no keyword argument '", k, "'"));
      }
      Frame* saved = frame_;
      frame_ = &frame;
      for (size_t i = 0; i < macro->targets.size(); ++i) {
        const std::string& p = macro->targets[i];
        Value v = args.get(i, p, Value::undefined(p));
        if (!args.has(i, p) && macro->defaults[i]) v = eval(*macro->defaults[i]);
        frame.vars[p] = std::move(v);
      }
      if (!pending_caller_.is_undefined()) {
        frame.vars["caller"] = pending_caller_;
        pending_caller_ = Value();
      }
      std::string text = capture(macro->bodies[0]);
      frame_ = saved;
      --call_depth_;
      return Value(std::move(text));
    });
  }

  // ---- expressions ----
  Value eval(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Literal: return e.value;
      case ExprKind::Name: return lookup(e.name);
      case ExprKind::List:
      case ExprKind::Tuple: {
        Array items;
        for (const auto& item : e.items) items.push_back(eval(*item));
        return Value::array(std::move(items), e.kind == ExprKind::Tuple);
      }
      case ExprKind::Dict: {
        Value d = Value::object();
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          const Value key = eval(*e.items[i]);
          if (!key.is_string())
            error_at(e.line, str("dict keys must be strings here, got a ", key.type_name()));
          d.set(key.as_string(), eval(*e.items[i + 1]));
        }
        return d;
      }
      case ExprKind::Attribute: return get_attribute(eval(*e.items[0]), e.name, e);
      case ExprKind::Subscript: return get_item(eval(*e.items[0]), eval(*e.items[1]), e);
      case ExprKind::Slice: return slice(e);
      case ExprKind::Call: return call(e);
      case ExprKind::Filter: {
        Value input = eval(*e.items[0]);
        CallArgs args = arguments(e);
        try {
          return apply_filter(e.name, input, args);
        } catch (const Error& err) {
          rethrow_with_line(err, e.line);
        }
      }
      case ExprKind::Test: {
        Value input = eval(*e.items[0]);
        CallArgs args = arguments(e);
        bool result;
        try {
          result = apply_test(e.name, input, args);
        } catch (const Error& err) {
          rethrow_with_line(err, e.line);
        }
        return Value(e.negated ? !result : result);
      }
      case ExprKind::Unary: {
        Value v = eval(*e.items[0]);
        if (e.name == "not") return Value(!v.truthy());
        require_defined(v, e);
        if (v.is_float()) return Value(e.name == "-" ? -v.as_number() : v.as_number());
        if (v.is_int() || v.is_bool()) {
          if (e.name != "-") return Value(v.as_int());
          int64_t negated;  // -INT64_MIN does not fit: it becomes a float, as '+' and '*' do
          return __builtin_sub_overflow(int64_t(0), v.as_int(), &negated) ? Value(-double(v.as_int()))
                                                                          : Value(negated);
        }
        error_at(e.line, str("bad operand type for unary ", e.name, ": a ", v.type_name()));
      }
      case ExprKind::Binary: return binary(e);
      case ExprKind::Conditional:
        if (eval(*e.items[0]).truthy()) return eval(*e.items[1]);
        return e.items[2] ? eval(*e.items[2]) : Value::undefined();
    }
    return Value();
  }

  [[noreturn]] static void rethrow_with_line(const Error& err, int line) {
    const std::string what = err.what();
    if (what.rfind("chat template", 0) == 0) throw err;
    error_at(line, what);
  }

  static void require_defined(const Value& v, const Expr& e) {
    if (v.is_undefined())
      error_at(e.line, v.undefined_name().empty() ? std::string("a value is undefined")
                                                  : str("'", v.undefined_name(), "' is undefined"));
  }

  CallArgs arguments(const Expr& e) {
    CallArgs args;
    for (size_t i = 1; i < e.items.size(); ++i) args.positional.push_back(eval(*e.items[i]));
    for (const auto& [k, v] : e.keywords) args.keywords.emplace_back(k, eval(*v));
    return args;
  }

  Value get_attribute(const Value& obj, const std::string& name, const Expr& e) {
    require_defined(obj, e);
    Value m = bound_method(obj, name);
    if (!m.is_undefined()) return m;
    if (obj.is_object())
      if (const Value* v = obj.find(name)) return *v;
    return Value::undefined(name);
  }

  Value get_item(const Value& obj, const Value& key, const Expr& e) {
    require_defined(obj, e);
    if (obj.is_object()) {
      if (key.is_string()) {
        if (const Value* v = obj.find(key.as_string())) return *v;
        Value m = bound_method(obj, key.as_string());
        return m.is_undefined() ? Value::undefined(key.as_string()) : m;
      }
      return Value::undefined();
    }
    if ((obj.is_array() || obj.is_string()) && (key.is_int() || key.is_bool())) {
      const Array items = obj.is_array() ? Array() : iterate(obj);
      const Array& seq = obj.is_array() ? obj.items() : items;
      int64_t i = key.as_int();
      const int64_t n = int64_t(seq.size());
      if (i < 0) i += n;
      return i >= 0 && i < n ? seq[size_t(i)] : Value::undefined();
    }
    if (key.is_string()) return get_attribute(obj, key.as_string(), e);
    return Value::undefined();
  }

  Value slice(const Expr& e) {
    const Value obj = eval(*e.items[0]);
    require_defined(obj, e);
    if (!obj.is_array() && !obj.is_string()) error_at(e.line, str("cannot slice a ", obj.type_name()));
    const Array seq = obj.is_array() ? obj.items() : iterate(obj);
    const int64_t n = int64_t(seq.size());
    auto part = [&](int k) -> std::optional<int64_t> {
      if (!e.items[size_t(k)]) return std::nullopt;
      const Value v = eval(*e.items[size_t(k)]);
      if (v.is_none()) return std::nullopt;
      if (!v.is_int() && !v.is_bool()) error_at(e.line, "slice indices must be integers");
      return v.as_int();
    };
    const auto start_v = part(1), stop_v = part(2), step_v = part(3);
    const int64_t step = step_v.value_or(1);
    if (step == 0) error_at(e.line, "slice step cannot be zero");
    auto clamp_index = [&](std::optional<int64_t> v, int64_t fallback) {
      if (!v) return fallback;
      int64_t i = *v < 0 ? *v + n : *v;
      if (step > 0) return std::clamp<int64_t>(i, 0, n);
      return std::clamp<int64_t>(i, -1, n - 1);
    };
    const int64_t start = clamp_index(start_v, step > 0 ? 0 : n - 1);
    const int64_t stop = clamp_index(stop_v, step > 0 ? n : -1);
    Array out;
    // A step near the int64 limits ends the walk instead of overflowing it.
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
      out.push_back(seq[size_t(i)]);
      if (__builtin_add_overflow(i, step, &i)) break;
    }
    if (obj.is_array()) return Value::array(std::move(out), obj.is_tuple());
    std::string s;
    for (const Value& c : out) s += c.as_string();
    return Value(std::move(s));
  }

  Value call(const Expr& e) {
    const Value callee = eval(*e.items[0]);
    if (callee.is_undefined()) {
      const std::string& name = callee.undefined_name();
      if (e.items[0]->kind == ExprKind::Attribute)
        error_at(e.line, str("no method or callable attribute '", e.items[0]->name, "'"));
      error_at(e.line,
               name.empty() ? std::string("calling an undefined value") : str("'", name, "' is undefined"));
    }
    if (!callee.is_function()) error_at(e.line, str("a ", callee.type_name(), " is not callable"));
    CallArgs args = arguments(e);
    args.callee = callee.function_name();
    try {
      return callee.function()(args);
    } catch (const Error& err) {
      rethrow_with_line(err, e.line);
    }
  }

  Value binary(const Expr& e) {
    const std::string& op = e.name;
    if (op == "and") {
      Value a = eval(*e.items[0]);
      return a.truthy() ? eval(*e.items[1]) : a;
    }
    if (op == "or") {
      Value a = eval(*e.items[0]);
      return a.truthy() ? a : eval(*e.items[1]);
    }
    const Value a = eval(*e.items[0]), b = eval(*e.items[1]);
    if (op == "==") return Value(equal(a, b));
    if (op == "!=") return Value(!equal(a, b));
    if (op == "~") return Value(a.str() + b.str());
    if (op == "in" || op == "not in") {
      bool found = false;
      if (b.is_string()) {
        if (!a.is_string())
          error_at(e.line, str("'in <string>' requires a string on the left, not a ", a.type_name()));
        found = b.as_string().find(a.as_string()) != std::string::npos;
      } else if (b.is_object()) {
        found = a.is_string() && b.find(a.as_string()) != nullptr;
      } else if (b.is_array() || b.is_undefined()) {
        for (const Value& x : iterate(b)) found = found || equal(x, a);
      } else {
        error_at(e.line, str("argument of type '", b.type_name(), "' is not iterable"));
      }
      return Value(op == "in" ? found : !found);
    }
    try {
      if (op == "<" || op == "<=" || op == ">" || op == ">=") {
        require_defined(a, e);
        require_defined(b, e);
        const int c = compare(a, b);
        return Value(op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0);
      }
      return arithmetic(op, a, b, e);
    } catch (const Error& err) {
      rethrow_with_line(err, e.line);
    }
  }

  Value repeat(const Value& seq, int64_t times, const Expr& e) {
    times = std::max<int64_t>(times, 0);
    const size_t unit = seq.is_string() ? seq.as_string().size() : seq.items().size();
    if (unit != 0 && uint64_t(times) > limits_.max_output_bytes / unit)
      error_at(e.line, "repetition result too large");
    if (seq.is_string()) {
      std::string out;
      for (int64_t i = 0; i < times; ++i) out += seq.as_string();
      return Value(std::move(out));
    }
    Array out;
    for (int64_t i = 0; i < times; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
    return Value::array(std::move(out));
  }

  Value arithmetic(const std::string& op, const Value& a, const Value& b, const Expr& e) {
    require_defined(a, e);
    require_defined(b, e);
    const bool an = a.is_number() || a.is_bool(), bn = b.is_number() || b.is_bool();
    const auto type_error = [&]() {
      error_at(e.line,
               str("unsupported operand types for ", op, ": a ", a.type_name(), " and a ", b.type_name()));
    };
    if (op == "+") {
      if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
      if (a.is_array() && b.is_array()) {
        Array out = a.items();
        out.insert(out.end(), b.items().begin(), b.items().end());
        return Value::array(std::move(out), a.is_tuple() && b.is_tuple());
      }
    }
    if (op == "*") {
      if ((a.is_string() || a.is_array()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int(), e);
      if ((b.is_string() || b.is_array()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int(), e);
    }
    if (op == "%" && a.is_string()) {
      try {
        return Value(apply_percent(a, b));
      } catch (const Error& err) {
        rethrow_with_line(err, e.line);
      }
    }
    if (!an || !bn) type_error();
    const bool ints = !a.is_float() && !b.is_float();
    const int64_t x = a.as_int(), y = b.as_int();
    const double p = a.as_number(), q = b.as_number();
    int64_t r;
    if (op == "+") return ints && !__builtin_add_overflow(x, y, &r) ? Value(r) : Value(p + q);
    if (op == "-") return ints && !__builtin_sub_overflow(x, y, &r) ? Value(r) : Value(p - q);
    if (op == "*") return ints && !__builtin_mul_overflow(x, y, &r) ? Value(r) : Value(p * q);
    if (op == "/") {
      if (q == 0) error_at(e.line, "division by zero");
      return Value(p / q);
    }
    if (op == "//" || op == "%") {
      if (q == 0) error_at(e.line, op == "//" ? "integer division by zero" : "modulo by zero");
      if (ints && !(x == INT64_MIN && y == -1)) {
        int64_t quot = x / y, rem = x % y;
        if (rem != 0 && ((rem < 0) != (y < 0))) {
          --quot;
          rem += y;
        }
        return op == "//" ? Value(quot) : Value(rem);
      }
      const double quot = std::floor(p / q);
      double rem = std::fmod(p, q);
      if (rem != 0 && ((rem < 0) != (q < 0))) rem += q;
      return op == "//" ? Value(quot) : Value(rem);
    }
    if (op == "**") {
      // Squaring keeps the work logarithmic in the exponent: a template can ask for 1 ** 10**18.
      if (ints && y >= 0) {
        int64_t acc = 1, base = x;
        bool overflow = false;
        for (int64_t rest = y; rest > 0 && !overflow; rest >>= 1) {
          if (rest & 1) overflow = __builtin_mul_overflow(acc, base, &acc);
          if (rest > 1 && !overflow) overflow = __builtin_mul_overflow(base, base, &base);
        }
        if (!overflow) return Value(acc);
      }
      return Value(std::pow(p, q));
    }
    type_error();
    return Value();
  }

  static std::string apply_percent(const Value& format, const Value& args) {
    CallArgs a;
    if (args.is_tuple())
      a.positional = args.items();
    else
      a.positional.push_back(args);
    return apply_filter("format", format, a).as_string();
  }

  const RenderLimits& limits_;
  Frame root_;
  Frame* frame_ = nullptr;
  std::string* out_ = nullptr;
  Value pending_caller_;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
};

}  // namespace

Template::Template(std::string_view source) {
  const size_t bad = utf8::first_invalid(source);
  check(bad == source.size(), "chat template: not valid UTF-8 at byte ", bad);
  body_ = parse_template(tokenize_template(source));
}

std::string Template::render(const Value& variables, const RenderLimits& limits) const {
  return Interpreter(variables, limits).run(body_);
}

}  // namespace llmnpu::jinja
