#pragma once
// A model's chat template: turns a conversation (OpenAI-style messages) into the prompt text the model
// was trained on, with the Jinja engine (jinja/template.h), as Hugging Face's apply_chat_template does.
// Models without a template get ChatML, and say so (uses_fallback).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jinja/template.h"
#include "tokenizer/vocab.h"

namespace llmnpu {

class Tokenizer;

struct ChatRequest {
  // [{"role": ..., "content": ...}, ...]; other fields (tool_calls, name, reasoning_content) pass through.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  bool add_generation_prompt = true;
  nlohmann::ordered_json tools;   // null: none (templates still see `tools`, as none)
  nlohmann::ordered_json extras;  // more template variables (enable_thinking, ...); an object or null
};

class ChatTemplate {
 public:
  // The vocab's template (ChatML when it has none), or `source` when not empty, with the vocab's BOS and
  // EOS pieces. Throws Error when the template does not parse.
  explicit ChatTemplate(const Vocab& vocab, std::string source = "");
  ChatTemplate(std::string source, std::string bos_token, std::string eos_token);

  // Throws Error for malformed messages (not a list of objects with a string role) and for what the
  // template raises (raise_exception: "conversation roles must alternate ...").
  std::string render(const ChatRequest& request, const jinja::RenderLimits& limits = {}) const;

  // The rendered conversation's token ids, as Hugging Face's apply_chat_template tokenizes: special-token
  // text matched, no BOS added (the template writes it; ChatML, ours, gets the model's BOS if it adds one).
  std::vector<int32_t> tokenize(const Tokenizer& tokenizer, const ChatRequest& request) const;
  // Stop strings generation needs besides the model's end-of-generation tokens: ChatML's end of turn,
  // which a model without a template may not have as a token.
  std::vector<std::string> stop_strings() const;

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
