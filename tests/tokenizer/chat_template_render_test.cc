// ChatTemplate: the model's template from its vocab, ChatML for models without one, and clear errors
// for malformed conversations and for what the template raises.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tokenizer/chat_template.h"

namespace llmnpu {
namespace {

ChatRequest conversation(std::initializer_list<std::pair<const char*, const char*>> turns) {
  ChatRequest r;
  for (const auto& [role, content] : turns) r.messages.push_back({{"role", role}, {"content", content}});
  return r;
}

TEST(ChatTemplate, ModelsWithoutATemplateGetChatML) {
  Vocab v = builtin_byte_vocab();
  v.chat_template.clear();
  ChatTemplate t(v);
  EXPECT_TRUE(t.uses_fallback());
  EXPECT_EQ(
      t.render(conversation({{"system", "Be brief."}, {"user", "Hi"}})),
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  ChatRequest no_prompt = conversation({{"user", "Hi"}});
  no_prompt.add_generation_prompt = false;
  EXPECT_EQ(t.render(no_prompt), "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, UsesTheVocabsTemplateAndSpecialTokens) {
  Vocab v = builtin_byte_vocab();
  v.bos_id = 510;  // "<s>" in the builtin vocab
  v.chat_template =
      "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content | trim }}{% endfor %}"
      "{% if add_generation_prompt %}[assistant]{% endif %}{% if enable_thinking is defined %}+{% endif %}";
  ChatTemplate t(v);
  EXPECT_FALSE(t.uses_fallback());
  ChatRequest r = conversation({{"user", "  Hello  "}});
  EXPECT_EQ(t.render(r), v.tokens[510] + "[user]Hello[assistant]");
  r.extras = {{"enable_thinking", false}};
  EXPECT_EQ(t.render(r), v.tokens[510] + "[user]Hello[assistant]+");
}

TEST(ChatTemplate, MalformedConversationsAndRaisedErrors) {
  ChatTemplate t(
      "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
      "{% for m in messages %}{{ m.content }}{% endfor %}",
      "<bos>", "<eos>");
  EXPECT_THROW(t.render(conversation({{"system", "x"}})), Error);
  try {
    t.render(conversation({{"system", "x"}}));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("System role not supported"), std::string::npos);
  }
  ChatRequest bad;
  bad.messages = nlohmann::ordered_json::array({"not an object"});
  EXPECT_THROW(t.render(bad), Error);
  bad.messages = nlohmann::ordered_json::array({{{"role", 3}, {"content", "x"}}});
  EXPECT_THROW(t.render(bad), Error);
  bad.messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", 5}}});
  EXPECT_THROW(t.render(bad), Error);
  bad.messages = nlohmann::ordered_json::object();
  EXPECT_THROW(t.render(bad), Error);
  EXPECT_THROW(ChatTemplate("{% for %}", "", ""), Error);
}

}  // namespace
}  // namespace llmnpu
