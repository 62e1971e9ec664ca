#pragma once
// The parsed form of a template: expression and statement trees the interpreter walks.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace llmnpu::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Literal,      // value
  Name,         // name
  List,         // items
  Tuple,        // items
  Dict,         // items: key, value, key, value, ...
  Attribute,    // items[0] . name
  Subscript,    // items[0] [ items[1] ]
  Slice,        // items[0] [ items[1] : items[2] : items[3] ] (null parts omitted)
  Call,         // items[0] ( items[1..] , keywords )
  Filter,       // items[0] | name ( items[1..] , keywords )
  Test,         // items[0] is [not] name ( items[1..] )
  Unary,        // op items[0]: "not", "-", "+"
  Binary,       // items[0] op items[1]: arithmetic, "~", comparisons, "in", "not in", "and", "or"
  Conditional,  // items[1] if items[0] else items[2] (items[2] null: undefined)
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  int line = 0;
  Value value;           // Literal
  std::string name;      // Name, Attribute, Filter, Test; the operator of Unary / Binary
  bool negated = false;  // Test: "is not"
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> keywords;  // Call, Filter
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  Text,         // text
  Output,       // {{ expr }}
  If,           // conditions[i] -> bodies[i]; a last body without condition is the else
  For,          // for targets in expr [if condition]: bodies[0] [else bodies[1]]
  Set,          // set targets (or target.attribute) = expr
  SetBlock,     // {% set name %}bodies[0]{% endset %} (filtered through filter_expr when given)
  Macro,        // macro name(params = defaults): bodies[0]
  CallBlock,    // {% call expr %}bodies[0]{% endcall %}: the body is the macro's caller()
  FilterBlock,  // {% filter f %}bodies[0]{% endfilter %}
  Break,
  Continue,
  Scope,  // a body run as is: {% generation %} (transformers' assistant-mask tag) and friends
};

struct Stmt {
  StmtKind kind = StmtKind::Text;
  int line = 0;
  std::string text;                  // Text; Set's attribute ("ns.x = ..."); Macro's name
  ExprPtr expr;                      // Output, For's iterable, Set's value, CallBlock's call
  ExprPtr condition;                 // For's inline filter
  ExprPtr filter_expr;               // FilterBlock / SetBlock: the filter applied to a Name placeholder
  std::vector<std::string> targets;  // For, Set, SetBlock; Macro's parameter names
  std::vector<ExprPtr> defaults;     // Macro: one per parameter (null: required)
  std::vector<ExprPtr> conditions;   // If
  std::vector<Body> bodies;
};

}  // namespace llmnpu::jinja
