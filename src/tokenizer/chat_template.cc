#include "tokenizer/chat_template.h"

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace llmnpu {

const char* ChatTemplate::chatml() {
  return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
         "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% "
         "endif %}";
}

static std::string token_text(const Vocab& vocab, int32_t id) {
  return id >= 0 && size_t(id) < vocab.size() ? vocab.tokens[size_t(id)] : std::string();
}

ChatTemplate::ChatTemplate(const Vocab& vocab, std::string source)
    : ChatTemplate(!source.empty()               ? std::move(source)
                   : vocab.chat_template.empty() ? std::string(chatml())
                                                 : vocab.chat_template,
                   token_text(vocab, vocab.bos_id), token_text(vocab, vocab.eos_id)) {
  fallback_ = source_ == chatml() && vocab.chat_template.empty();
}

std::vector<int32_t> ChatTemplate::tokenize(const Tokenizer& tokenizer, const ChatRequest& request) const {
  return tokenizer.encode(render(request), fallback_ && tokenizer.adds_bos());
}

std::vector<std::string> ChatTemplate::stop_strings() const {
  return fallback_ ? std::vector<std::string>{"<|im_end|>"} : std::vector<std::string>{};
}

ChatTemplate::ChatTemplate(std::string source, std::string bos_token, std::string eos_token)
    : source_(std::move(source)), bos_token_(std::move(bos_token)), eos_token_(std::move(eos_token)) {
  template_ = std::make_shared<jinja::Template>(source_);
}

std::string ChatTemplate::render(const ChatRequest& request, const jinja::RenderLimits& limits) const {
  check(request.messages.is_array(), "messages must be a list");
  for (size_t i = 0; i < request.messages.size(); ++i) {
    const auto& m = request.messages[i];
    check(m.is_object(), "messages[", i, "] must be an object");
    check(m.contains("role") && m["role"].is_string(), "messages[", i, "].role must be a string");
    check(!m.contains("content") || m["content"].is_string() || m["content"].is_array() ||
              m["content"].is_null(),
          "messages[", i, "].content must be a string, a list of parts or null");
  }
  jinja::Value vars = jinja::Value::object();
  vars.set("bos_token", jinja::Value(bos_token_));
  vars.set("eos_token", jinja::Value(eos_token_));
  if (request.extras.is_object())
    for (const auto& [k, v] : request.extras.items()) vars.set(k, jinja::Value::from_json(v));
  vars.set("messages", jinja::Value::from_json(request.messages));
  vars.set("tools", jinja::Value::from_json(request.tools));
  if (!vars.find("documents")) vars.set("documents", jinja::Value::none());
  vars.set("add_generation_prompt", jinja::Value(request.add_generation_prompt));
  return template_->render(vars, limits);
}

}  // namespace llmnpu
