#pragma once
// A Jinja template parsed once and rendered many times: the engine that renders models' chat templates
// (docs/chat.md). It implements the subset of Jinja2 real chat templates use, configured as Hugging Face
// transformers configures Jinja2 for apply_chat_template (trim_blocks, lstrip_blocks, loop controls, a
// sandbox whose lists and dicts are immutable, tojson with ensure_ascii=False, raise_exception and
// strftime_now globals). Anything outside the subset is an Error naming the statement, filter, test or
// method, never a silently different text.
#include <string>
#include <string_view>

#include "jinja/ast.h"
#include "jinja/value.h"

namespace llmnpu::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t(64) << 20;
  int64_t max_loop_iterations = 10'000'000;  // all loops of one render together
  int max_call_depth = 64;                   // nested macro calls
};

class Template {
 public:
  // Throws Error "chat template line N: ..." for syntax it cannot parse, and for invalid UTF-8.
  explicit Template(std::string_view source);

  // variables: a dict of the template's inputs (messages, add_generation_prompt, bos_token, ...). A
  // variable named like a global (strftime_now, raise_exception) replaces it. Throws Error for what the
  // template raises (raise_exception) and for run-time errors (undefined calls, type errors, limits).
  std::string render(const Value& variables, const RenderLimits& limits = {}) const;

 private:
  Body body_;
};

}  // namespace llmnpu::jinja
