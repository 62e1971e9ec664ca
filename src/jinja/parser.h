#pragma once
// Recursive-descent parser for the Jinja subset chat templates use, with Jinja2's operator precedence:
// conditional < or < and < not < comparisons / in / is < + - < ~ < * / // % < ** < unary < postfix.
#include <vector>

#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace llmnpu::jinja {

// Throws Error "chat template line N: ..." naming what it did not expect or does not support.
Body parse_template(const std::vector<Token>& tokens);

}  // namespace llmnpu::jinja
