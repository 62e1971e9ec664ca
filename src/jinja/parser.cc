#include "jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include "core/error.h"

namespace llmnpu::jinja {
namespace {

constexpr int kMaxDepth = 256;  // nesting of expressions and blocks; deeper input is refused, not recursed

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  Body parse() {
    std::string end;
    Body body = parse_body({}, end);
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return t_[pos_]; }
  const Token& peek(size_t ahead = 1) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  void advance() {
    if (pos_ + 1 < t_.size()) ++pos_;
  }
  bool is_op(const char* op) const { return cur().kind == TokenKind::Operator && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == TokenKind::Name && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }
  [[noreturn]] void error(const std::string& what) const {
    fail("chat template line ", cur().line, ": ", what);
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokenKind::Text: return "text";
      case TokenKind::VarBegin: return "'{{'";
      case TokenKind::VarEnd: return "'}}'";
      case TokenKind::BlockBegin: return "'{%'";
      case TokenKind::BlockEnd: return "'%}'";
      case TokenKind::End: return "the end of the template";
      case TokenKind::String: return "a string";
      case TokenKind::Integer:
      case TokenKind::Float: return "number " + t.text;
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(str("expected '", op, "', found ", describe(cur())));
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::Name) error(str("expected a name, found ", describe(cur())));
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::BlockEnd) error(str("expected '%}', found ", describe(cur())));
    advance();
  }
  void enter() {
    if (++depth_ > kMaxDepth) error("template nested too deeply");
  }

  ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----
  // Statements up to a {% NAME %} with NAME in `ends` (consumed up to NAME, which is returned in `end`).
  Body parse_body(std::initializer_list<const char*> ends, std::string& end) {
    enter();
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.kind == TokenKind::End) {
        if (ends.size() != 0) error(str("missing {% ", *(ends.end() - 1), " %}"));
        break;
      }
      if (t.kind == TokenKind::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.kind == TokenKind::VarBegin) {
        advance();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = t.line;
        s->expr = parse_tuple_or_expression();
        if (cur().kind != TokenKind::VarEnd) error(str("expected '}}', found ", describe(cur())));
        advance();
        body.push_back(std::move(s));
      } else if (t.kind == TokenKind::BlockBegin) {
        advance();
        if (cur().kind != TokenKind::Name) error(str("expected a statement name, found ", describe(cur())));
        const std::string name = cur().text;
        if (std::find_if(ends.begin(), ends.end(), [&](const char* e) { return name == e; }) != ends.end()) {
          end = name;
          advance();
          --depth_;
          return body;
        }
        body.push_back(parse_statement());
      } else {
        error(str("unexpected ", describe(t)));
      }
    }
    --depth_;
    return body;
  }

  StmtPtr parse_statement() {
    const int line = cur().line;
    const std::string name = expect_name();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (name == "if") {
      s->kind = StmtKind::If;
      s->conditions.push_back(parse_tuple_or_expression());
      expect_block_end();
      while (true) {
        std::string end;
        s->bodies.push_back(parse_body({"elif", "else", "endif"}, end));
        if (end == "elif") {
          s->conditions.push_back(parse_tuple_or_expression());
          expect_block_end();
        } else if (end == "else") {
          expect_block_end();
          s->bodies.push_back(parse_body({"endif"}, end));
          expect_block_end();
          break;
        } else {
          expect_block_end();
          break;
        }
      }
    } else if (name == "for") {
      s->kind = StmtKind::For;
      s->targets = parse_targets();
      if (!skip_name("in")) error(str("expected 'in' in a for loop, found ", describe(cur())));
      s->expr = parse_tuple_or_expression(/*no_conditional=*/true);
      if (skip_name("if")) s->condition = parse_expression();
      if (is_name("recursive")) error("unsupported: recursive for loops");
      expect_block_end();
      std::string end;
      ++loop_depth_;
      s->bodies.push_back(parse_body({"else", "endfor"}, end));
      --loop_depth_;
      expect_block_end();
      if (end == "else") {
        s->bodies.push_back(parse_body({"endfor"}, end));
        expect_block_end();
      }
    } else if (name == "set") {
      std::vector<std::string> targets = parse_targets();
      if (skip_op(".")) {  // set namespace.attribute = value
        if (targets.size() != 1) error("cannot assign an attribute of a tuple");
        s->text = expect_name();
      }
      s->targets = std::move(targets);
      if (skip_op("=")) {
        s->kind = StmtKind::Set;
        s->expr = parse_tuple_or_expression();
        expect_block_end();
      } else {
        if (!s->text.empty() || s->targets.size() != 1) error("a {% set %} block assigns one plain name");
        s->kind = StmtKind::SetBlock;
        if (is_op("|")) s->filter_expr = parse_filter_chain(make_placeholder(line));
        expect_block_end();
        std::string end;
        s->bodies.push_back(parse_body({"endset"}, end));
        expect_block_end();
      }
    } else if (name == "macro") {
      s->kind = StmtKind::Macro;
      s->text = expect_name();
      expect_op("(");
      while (!skip_op(")")) {
        if (!s->targets.empty()) expect_op(",");
        if (skip_op(")")) break;
        s->targets.push_back(expect_name());
        s->defaults.push_back(skip_op("=") ? parse_expression() : nullptr);
      }
      expect_block_end();
      std::string end;
      s->bodies.push_back(parse_body({"endmacro"}, end));
      if (cur().kind == TokenKind::Name) advance();  // {% endmacro name %}
      expect_block_end();
    } else if (name == "call") {
      s->kind = StmtKind::CallBlock;
      if (is_op("(")) error("unsupported: {% call(args) %} with caller arguments");
      s->expr = parse_expression();
      if (s->expr->kind != ExprKind::Call) error("{% call %} needs a macro call");
      expect_block_end();
      std::string end;
      s->bodies.push_back(parse_body({"endcall"}, end));
      expect_block_end();
    } else if (name == "filter") {
      s->kind = StmtKind::FilterBlock;
      s->filter_expr = parse_filter_chain(make_placeholder(line), /*first_bar=*/false);
      expect_block_end();
      std::string end;
      s->bodies.push_back(parse_body({"endfilter"}, end));
      expect_block_end();
    } else if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error(str("'", name, "' outside a for loop"));
      s->kind = name == "break" ? StmtKind::Break : StmtKind::Continue;
      expect_block_end();
    } else if (name == "generation") {
      s->kind = StmtKind::Scope;
      expect_block_end();
      std::string end;
      s->bodies.push_back(parse_body({"endgeneration"}, end));
      expect_block_end();
    } else {
      error(str("unsupported statement {% ", name, " %}"));
    }
    return s;
  }

  // for/set targets: "a" or "a, b" or "(a, b)".
  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    const bool paren = skip_op("(");
    do {
      names.push_back(expect_name());
    } while (skip_op(","));
    if (paren) expect_op(")");
    return names;
  }

  // The value a {% filter %} or {% set %} block's body stands in for.
  ExprPtr make_placeholder(int line) {
    auto e = make(ExprKind::Name, line);
    e->name = "\x01block";  // not a name a template can spell
    return e;
  }

  ExprPtr parse_filter_chain(ExprPtr node, bool first_bar = true) {
    if (!first_bar) node = parse_filter(std::move(node));
    while (skip_op("|")) node = parse_filter(std::move(node));
    return node;
  }

  // ---- expressions ----
  ExprPtr parse_tuple_or_expression(bool no_conditional = false) {
    const int line = cur().line;
    ExprPtr first = no_conditional ? parse_or() : parse_expression();
    if (!is_op(",")) return first;
    auto tuple = make(ExprKind::Tuple, line);
    tuple->items.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().kind == TokenKind::VarEnd || cur().kind == TokenKind::BlockEnd) break;
      tuple->items.push_back(no_conditional ? parse_or() : parse_expression());
    }
    return tuple;
  }

  ExprPtr parse_expression() {
    enter();
    ExprPtr e = parse_conditional();
    --depth_;
    return e;
  }

  ExprPtr parse_conditional() {
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      const int line = cur().line;
      advance();
      auto cond = make(ExprKind::Conditional, line);
      cond->items.push_back(parse_or());
      cond->items.push_back(std::move(expr));
      cond->items.push_back(skip_name("else") ? parse_conditional() : nullptr);
      expr = std::move(cond);
    }
    return expr;
  }

  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, int line) {
    auto e = make(ExprKind::Binary, line);
    e->name = op;
    e->items.push_back(std::move(left));
    e->items.push_back(std::move(right));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const int line = cur().line;
      advance();
      left = binary("or", std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const int line = cur().line;
      advance();
      left = binary("and", std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const int line = cur().line;
      advance();
      enter();
      auto e = make(ExprKind::Unary, line);
      e->name = "not";
      e->items.push_back(parse_not());
      --depth_;
      return e;
    }
    return parse_compare();
  }

  // Chained comparisons (a < b < c) become (a < b) and (b < c) with b evaluated twice: templates do not
  // chain with side effects.
  ExprPtr parse_compare() {
    ExprPtr expr = parse_math1();
    while (true) {
      const int line = cur().line;
      std::string op;
      if (cur().kind == TokenKind::Operator &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op("<=") || is_op(">") || is_op(">="))) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().kind == TokenKind::Name && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        return expr;
      }
      expr = binary(op, std::move(expr), parse_math1(), line);
    }
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().text;
      const int line = cur().line;
      advance();
      left = binary(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (is_op("~")) {
      const int line = cur().line;
      advance();
      left = binary("~", std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().text;
      const int line = cur().line;
      advance();
      left = binary(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary();
    while (is_op("**")) {
      const int line = cur().line;
      advance();
      left = binary("**", std::move(left), parse_unary(), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter = true) {
    enter();
    ExprPtr node;
    const int line = cur().line;
    if (is_op("-") || is_op("+")) {
      const std::string op = cur().text;
      advance();
      node = make(ExprKind::Unary, line);
      node->name = op;
      node->items.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    --depth_;
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const int line = t.line;
    switch (t.kind) {
      case TokenKind::Name: {
        auto e = make(ExprKind::Literal, line);
        if (t.text == "true" || t.text == "True")
          e->value = Value(true);
        else if (t.text == "false" || t.text == "False")
          e->value = Value(false);
        else if (t.text == "none" || t.text == "None")
          e->value = Value::none();
        else {
          e->kind = ExprKind::Name;
          e->name = t.text;
        }
        advance();
        return e;
      }
      case TokenKind::String: {
        std::string s;
        while (cur().kind == TokenKind::String) {  // adjacent literals concatenate
          s += cur().text;
          advance();
        }
        auto e = make(ExprKind::Literal, line);
        e->value = Value(std::move(s));
        return e;
      }
      case TokenKind::Integer: {
        auto e = make(ExprKind::Literal, line);
        e->value = Value(t.integer);
        advance();
        return e;
      }
      case TokenKind::Float: {
        auto e = make(ExprKind::Literal, line);
        e->value = Value(t.number);
        advance();
        return e;
      }
      case TokenKind::Operator:
        if (t.text == "(") {
          advance();
          if (skip_op(")")) return make(ExprKind::Tuple, line);
          ExprPtr first = parse_expression();
          if (skip_op(")")) return first;
          auto tuple = make(ExprKind::Tuple, line);
          tuple->items.push_back(std::move(first));
          while (skip_op(",")) {
            if (is_op(")")) break;
            tuple->items.push_back(parse_expression());
          }
          expect_op(")");
          return tuple;
        }
        if (t.text == "[") {
          advance();
          auto list = make(ExprKind::List, line);
          while (!skip_op("]")) {
            if (!list->items.empty()) expect_op(",");
            if (skip_op("]")) break;
            list->items.push_back(parse_expression());
          }
          return list;
        }
        if (t.text == "{") {
          advance();
          auto dict = make(ExprKind::Dict, line);
          while (!skip_op("}")) {
            if (!dict->items.empty()) expect_op(",");
            if (skip_op("}")) break;
            dict->items.push_back(parse_expression());
            expect_op(":");
            dict->items.push_back(parse_expression());
          }
          return dict;
        }
        break;
      default: break;
    }
    error(str("unexpected ", describe(t), " in an expression"));
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const int line = cur().line;
      if (skip_op(".")) {
        auto e = make(ExprKind::Attribute, line);
        if (cur().kind == TokenKind::Integer) {  // foo.0 is foo[0]
          e->kind = ExprKind::Subscript;
          e->items.push_back(std::move(node));
          auto index = make(ExprKind::Literal, line);
          index->value = Value(cur().integer);
          e->items.push_back(std::move(index));
          advance();
        } else {
          e->name = expect_name();
          e->items.push_back(std::move(node));
        }
        node = std::move(e);
      } else if (is_op("[")) {
        advance();
        node = parse_subscript(std::move(node), line);
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr node, int line) {
    ExprPtr parts[3];
    int part = 0;
    bool is_slice = false;
    while (!is_op("]")) {
      if (skip_op(":")) {
        is_slice = true;
        if (++part > 2) error("too many ':' in a slice");
        continue;
      }
      if (parts[part]) error(str("unexpected ", describe(cur()), " in a subscript"));
      parts[part] = parse_expression();
    }
    advance();
    auto e = make(is_slice ? ExprKind::Slice : ExprKind::Subscript, line);
    e->items.push_back(std::move(node));
    if (!is_slice && !parts[0]) error("empty subscript");
    e->items.push_back(std::move(parts[0]));
    if (is_slice) {
      e->items.push_back(std::move(parts[1]));
      e->items.push_back(std::move(parts[2]));
    }
    return e;
  }

  // Arguments of a call, filter or test: positional then name=value.
  void parse_arguments(Expr& call) {
    expect_op("(");
    bool first = true;
    while (!skip_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (skip_op(")")) break;
      if (is_op("*") || is_op("**")) error("unsupported: *args / **kwargs in a call");
      if (cur().kind == TokenKind::Name && peek().kind == TokenKind::Operator && peek().text == "=") {
        std::string name = cur().text;
        advance();
        advance();
        call.keywords.emplace_back(std::move(name), parse_expression());
      } else {
        if (!call.keywords.empty()) error("positional argument after a keyword argument");
        call.items.push_back(parse_expression());
      }
    }
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = make(ExprKind::Call, cur().line);
    e->items.push_back(std::move(callee));
    parse_arguments(*e);
    return e;
  }

  ExprPtr parse_filter(ExprPtr node) {
    auto e = make(ExprKind::Filter, cur().line);
    e->name = expect_name();
    while (skip_op(".")) e->name += "." + expect_name();
    e->items.push_back(std::move(node));
    if (is_op("(")) parse_arguments(*e);
    return e;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (skip_op("|")) {
        node = parse_filter(std::move(node));
      } else if (is_name("is")) {
        const int line = cur().line;
        advance();
        auto e = make(ExprKind::Test, line);
        e->negated = skip_name("not");
        e->name = expect_name();
        while (skip_op(".")) e->name += "." + expect_name();
        e->items.push_back(std::move(node));
        const Token& t = cur();
        if (is_op("(")) {
          parse_arguments(*e);
        } else if ((t.kind == TokenKind::Name || t.kind == TokenKind::String ||
                    t.kind == TokenKind::Integer || t.kind == TokenKind::Float || is_op("[") || is_op("{")) &&
                   !(t.kind == TokenKind::Name &&
                     (t.text == "else" || t.text == "or" || t.text == "and" || t.text == "is" ||
                      t.text == "if" || t.text == "in" || t.text == "not"))) {
          e->items.push_back(parse_postfix(parse_primary()));  // "x is divisibleby 3", "x is sameas none"
        }
        node = std::move(e);
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  const std::vector<Token>& t_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // for loops around the statement being parsed
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens) { return Parser(tokens).parse(); }

}  // namespace llmnpu::jinja
