#pragma once
// A model's chat template: turns a conversation (OpenAI-style messages) into the prompt text the model
// was trained on, with the Jinja engine (jinja/template.h), as Hugging Face's apply_chat_template does.
// Models without a template get ChatML, and say so (uses_fallback).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "jinja/template.h"
#include "tokenizer/vocab.h"

namespace llmnpu {

struct ChatRequest {
  // [{"role": ..., "content": ...}, ...]; other fields (tool_calls, name, reasoning_content) pass through.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  bool add_generation_prompt = true;
  nlohmann::ordered_json tools;   // null: none (templates still see `tools`, as none)
  nlohmann::ordered_json extras;  // more template variables (enable_thinking, ...); an object or null
};

class ChatTemplate {
 public:
  // The vocab's template (ChatML when it has none). Throws Error when the template does not parse.
  explicit ChatTemplate(const Vocab& vocab);
  ChatTemplate(std::string source, std::string bos_token, std::string eos_token);

  // Throws Error for malformed messages (not a list of objects with a string role) and for what the
  // template raises (raise_exception: "conversation roles must alternate ...").
  std::string render(const ChatRequest& request, const jinja::RenderLimits& limits = {}) const;

  bool uses_fallback() const { return fallback_; }
  const std::string& source() const { return source_; }
  // ChatML, the template used for models that carry none.
  static const char* chatml();

 private:
  std::string source_, bos_token_, eos_token_;
  bool fallback_ = false;
  std::shared_ptr<const jinja::Template> template_;
};

}  // namespace llmnpu
