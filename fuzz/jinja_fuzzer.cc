// Chat templates are text inside model files: any bytes must parse to a template or an Error, and any
// template must render to text or an Error within the render limits (no crash, hang or runaway memory).
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/utf8.h"
#include "tokenizer/chat_template.h"

using namespace llmnpu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ChatRequest request = [] {
    ChatRequest r;
    r.messages = nlohmann::ordered_json::parse(
        R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi \"there\" é"},
            {"role": "assistant", "content": "<think>x</think>Hello", "tool_calls": [{"type": "function",
             "function": {"name": "f", "arguments": {"a": 1}}}]}, {"role": "tool", "content": "42"},
            {"role": "user", "content": "Thanks"}])");
    r.tools = nlohmann::ordered_json::parse(
        R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])");
    return r;
  }();
  const std::string source(reinterpret_cast<const char*>(data), size);
  try {
    const ChatTemplate chat(source, "<s>", "</s>");
    jinja::RenderLimits limits;
    limits.max_output_bytes = 1 << 20;
    limits.max_loop_iterations = 100000;
    const std::string text = chat.render(request, limits);
    if (utf8::first_invalid(text) != text.size()) {
      std::fprintf(stderr, "rendered text is not valid UTF-8\n");
      std::abort();
    }
  } catch (const Error&) {
  }
  return 0;
}
