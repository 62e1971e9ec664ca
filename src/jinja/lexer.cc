#include "jinja/lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "core/error.h"
#include "core/utf8.h"

namespace llmnpu::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    std::string text;
    while (pos_ < src_.size()) {
      const size_t open = find_tag_open(pos_);
      text.append(src_, pos_, open - pos_);
      pos_ = open;
      if (pos_ >= src_.size()) break;
      const char kind = src_[pos_ + 1];  // '{', '%' or '#'
      const int tag_line = line_at(pos_);
      size_t inner = pos_ + 2;
      const char modifier = inner < src_.size() ? src_[inner] : 0;
      const bool strip_before = modifier == '-', keep_indent = modifier == '+';
      if (strip_before || keep_indent) ++inner;
      if (strip_before) {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      } else if (kind != '{' && !keep_indent) {
        lstrip_line(text);
      }
      if (kind == '#') {
        const size_t close = src_.find("#}", inner);
        check(close != std::string::npos, "chat template line ", tag_line, ": unterminated comment");
        flush_text(text, tag_line);
        const bool strip_after = close > inner && src_[close - 1] == '-';
        pos_ = close + 2;
        after_tag(strip_after, close > inner && src_[close - 1] == '+');
        continue;
      }
      flush_text(text, tag_line);
      const size_t first_token = tokens_.size();
      emit(kind == '{' ? TokenKind::VarBegin : TokenKind::BlockBegin, "", tag_line);
      pos_ = inner;
      const bool closed = lex_tag_body(kind == '{' ? '}' : '%');
      check(closed, "chat template line ", tag_line, ": unterminated ", kind == '{' ? "{{" : "{%", " tag");
      if (kind == '%' && tokens_.size() == first_token + 3 &&
          tokens_[first_token + 1].kind == TokenKind::Name && tokens_[first_token + 1].text == "raw") {
        tokens_.resize(first_token);  // {% raw %}: its body up to {% endraw %} is data
        lex_raw(text, tag_line);
      }
    }
    flush_text(text, line_at(pos_));
    emit(TokenKind::End, "", line_at(src_.size()));
    return std::move(tokens_);
  }

 private:
  size_t find_tag_open(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return src_.size();
  }

  int line_at(size_t pos) {
    for (; line_pos_ < pos && line_pos_ < src_.size(); ++line_pos_)
      if (src_[line_pos_] == '\n') ++line_;
    return line_;
  }

  // lstrip_blocks: spaces and tabs between the line start and a block tag go.
  // At i == 0 the text is all blanks: stripped only when it starts a line (the template's start, or a
  // previous tag that ended with a newline it consumed).
  void lstrip_line(std::string& text) const {
    size_t i = text.size();
    while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
    if ((i == 0 && line_start_) || (i > 0 && text[i - 1] == '\n')) text.resize(i);
  }

  // Whitespace after a tag: "-" strips all of it; trim_blocks drops one newline after a block or comment.
  void after_tag(bool strip_after, bool keep_newline, bool is_block = true) {
    if (strip_after) {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (is_block && !keep_newline && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
    line_start_ = src_[pos_ - 1] == '\n';
  }

  void flush_text(std::string& text, int line) {
    if (!text.empty()) emit(TokenKind::Text, std::move(text), line);
    text.clear();
  }

  void emit(TokenKind kind, std::string text, int line) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line;
    tokens_.push_back(std::move(t));
  }

  // Tokens up to the closing "}}" or "%}"; false at the end of the source.
  bool lex_tag_body(char close) {
    int depth = 0;  // open brackets: "}}" inside a dict literal does not close the tag
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (is_space(c)) {
        ++pos_;
        continue;
      }
      const int line = line_at(pos_);
      const bool modified = (c == '-' || c == '+') && pos_ + 2 < src_.size() + 0 && src_[pos_ + 1] == close &&
                            src_[pos_ + 2] == '}';
      if (depth == 0 && (modified || (c == close && pos_ + 1 < src_.size() && src_[pos_ + 1] == '}'))) {
        pos_ += modified ? 3 : 2;
        emit(close == '}' ? TokenKind::VarEnd : TokenKind::BlockEnd, "", line);
        after_tag(modified && c == '-', modified && c == '+', close == '%');
        return true;
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t end = pos_;
        while (end < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[end])) || src_[end] == '_'))
          ++end;
        emit(TokenKind::Name, src_.substr(pos_, end - pos_), line);
        pos_ = end;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        lex_number(line);
      } else if (c == '\'' || c == '"') {
        lex_string(line);
      } else {
        lex_operator(line);
        const std::string& op = tokens_.back().text;
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
      }
    }
    return false;
  }

  void lex_number(int line) {
    size_t end = pos_;
    std::string digits;
    auto take_digits = [&] {
      while (end < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[end])) || src_[end] == '_')) {
        if (src_[end] != '_') digits += src_[end];
        ++end;
      }
    };
    take_digits();
    bool is_float = false;
    if (end + 1 < src_.size() && src_[end] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[end + 1]))) {
      is_float = true;
      digits += '.';
      ++end;
      take_digits();
    }
    if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E')) {
      size_t e = end + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
        is_float = true;
        digits += src_.substr(end, e - end);
        end = e;
        take_digits();
      }
    }
    Token t;
    t.line = line;
    t.text = digits;
    errno = 0;
    if (is_float) {
      t.kind = TokenKind::Float;
      t.number = std::strtod(digits.c_str(), nullptr);
    } else {
      t.kind = TokenKind::Integer;
      t.integer = std::strtoll(digits.c_str(), nullptr, 10);
      check(errno != ERANGE, "chat template line ", line, ": integer ", digits, " is too large");
    }
    tokens_.push_back(std::move(t));
    pos_ = end;
  }

  // Python string literal escapes (the unicode-escape codec Jinja2 decodes literals with).
  void lex_string(int line) {
    const char quote = src_[pos_++];
    std::string value;
    while (true) {
      check(pos_ < src_.size(), "chat template line ", line, ": unterminated string");
      const char c = src_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        continue;
      }
      check(pos_ < src_.size(), "chat template line ", line, ": unterminated string");
      const char e = src_[pos_++];
      auto hex = [&](int digits) {
        check(pos_ + size_t(digits) <= src_.size(), "chat template line ", line,
              ": truncated \\x/\\u escape");
        uint32_t cp = 0;
        for (int i = 0; i < digits; ++i) {
          const char h = src_[pos_++];
          check(std::isxdigit(static_cast<unsigned char>(h)), "chat template line ", line,
                ": bad hex escape");
          cp = cp * 16 +
               uint32_t(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        check(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF), "chat template line ", line,
              ": escape is not a Unicode scalar value");
        utf8::append(value, cp);
      };
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\n': break;  // line continuation
        case 'x': hex(2); break;
        case 'u': hex(4); break;
        case 'U': hex(8); break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = uint32_t(e - '0');
            for (int i = 0; i < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; ++i)
              cp = cp * 8 + uint32_t(src_[pos_++] - '0');
            utf8::append(value, cp);
          } else {
            value += '\\';
            value += e;
          }
      }
    }
    Token t;
    t.kind = TokenKind::String;
    t.text = std::move(value);
    t.line = line;
    tokens_.push_back(std::move(t));
  }

  void lex_operator(int line) {
    static const char* const kOperators[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*",
                                             "/",  "%",  "~",  "<",  ">",  "=",  "(", ")", "[",
                                             "]",  "{",  "}",  ",",  ".",  ":",  "|"};
    for (const char* op : kOperators) {
      const std::string_view o(op);
      if (src_.compare(pos_, o.size(), o) == 0) {
        emit(TokenKind::Operator, std::string(o), line);
        pos_ += o.size();
        return;
      }
    }
    const unsigned char c = static_cast<unsigned char>(src_[pos_]);
    fail("chat template line ", line, ": unexpected character ",
         c >= 0x20 && c < 0x7f ? str("'", char(c), "'") : str("byte 0x", std::hex, int(c)), " in a tag");
  }

  // {% raw %}...{% endraw %}: the body is data. text is empty (the raw tag flushed it).
  void lex_raw(std::string& text, int line) {
    for (size_t i = pos_; (i = src_.find("{%", i)) != std::string::npos; i += 2) {
      size_t j = i + 2;
      const bool strip_before = j < src_.size() && src_[j] == '-';
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
      while (j < src_.size() && is_space(src_[j])) ++j;
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      while (j < src_.size() && is_space(src_[j])) ++j;
      const bool strip_after = j < src_.size() && src_[j] == '-';
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
      if (src_.compare(j, 2, "%}") != 0) continue;
      text.assign(src_, pos_, i - pos_);
      if (strip_before)
        while (!text.empty() && is_space(text.back())) text.pop_back();
      else
        lstrip_line(text);
      flush_text(text, line);
      pos_ = j + 2;
      after_tag(strip_after, false);
      return;
    }
    fail("chat template line ", line, ": {% raw %} without {% endraw %}");
  }

  std::string src_;
  size_t pos_ = 0;
  size_t line_pos_ = 0;
  int line_ = 1;
  bool line_start_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize_template(std::string_view source) { return Lexer(source).run(); }

}  // namespace llmnpu::jinja
