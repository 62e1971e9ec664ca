#pragma once
// Splits Jinja source into text and tag tokens, applying whitespace control the way Jinja2 does with
// trim_blocks and lstrip_blocks on (as Hugging Face renders chat templates): "{%-"/"-%}" strip,
// "{%+"/"+%}" keep, a block tag alone on its line takes its indentation and newline with it, newlines
// are normalized to "\n" and one trailing newline of the source is dropped. {% raw %} bodies are text.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmnpu::jinja {

enum class TokenKind {
  Text,        // template data, output as is
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  Integer,
  Float,
  String,    // the literal's value, escapes decoded
  Operator,  // punctuation and operators: ( ) [ ] { } , . : | = == != < <= > >= + - * / // % ** ~
  End,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // Text data, name, string value or operator
  int64_t integer = 0;
  double number = 0;
  int line = 1;
};

// Throws Error "chat template line N: ..." on unterminated tags and strings or stray characters.
std::vector<Token> tokenize_template(std::string_view source);

}  // namespace llmnpu::jinja
