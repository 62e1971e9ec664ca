// Real chat templates (tests/data/chat_templates) rendered by our engine must equal Jinja2's rendering,
// byte for byte, as render_expected.py records it with Jinja2 configured as transformers configures it.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "jinja/template.h"

namespace llmnpu::jinja {
namespace {

const std::string kDir = std::string(LLMNPU_SOURCE_DIR) + "/tests/data/chat_templates/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::ordered_json read_json(const std::string& name) {
  return nlohmann::ordered_json::parse(read_file(kDir + name));
}

// strftime_now pinned to 2026-07-26, as render_expected.py pins it.
Value fixed_strftime_now() {
  return Value::function("strftime_now", [](CallArgs& a) {
    std::tm t{};
    t.tm_year = 2026 - 1900;
    t.tm_mon = 6;
    t.tm_mday = 26;
    t.tm_wday = 0;  // a Sunday
    t.tm_yday = 206;
    char buf[128];
    const size_t n = std::strftime(buf, sizeof buf, a.positional.at(0).as_string().c_str(), &t);
    return Value(std::string(buf, n));
  });
}

TEST(ChatTemplates, RenderLikeJinja2) {
  const auto cases = read_json("cases.json");
  const auto specials = read_json("special_tokens.json");
  const auto expected = read_json("expected.json");
  std::map<std::string, nlohmann::ordered_json> case_by_name;
  for (const auto& c : cases) case_by_name[c["name"].get<std::string>()] = c;
  std::map<std::string, std::unique_ptr<Template>> templates;
  int outputs = 0, raised = 0;
  for (const auto& e : expected) {
    const std::string name = e["template"], case_name = e["case"];
    SCOPED_TRACE(name + " / " + case_name);
    if (!templates.count(name)) templates[name] = std::make_unique<Template>(read_file(kDir + name));
    const auto& c = case_by_name.at(case_name);
    // The variables render_expected.py passes: special tokens, extra case keys, then the standard ones.
    nlohmann::ordered_json vars = specials[name];
    for (const auto& [k, v] : c.items())
      if (k != "name" && k != "messages" && k != "add_generation_prompt" && k != "tools" && k != "templates")
        vars[k] = v;
    vars["messages"] = c["messages"];
    vars["tools"] = c.contains("tools") ? c["tools"] : nlohmann::ordered_json();
    vars["documents"] = nullptr;
    vars["add_generation_prompt"] = c["add_generation_prompt"];
    Value variables = Value::from_json(vars);
    variables.set("strftime_now", fixed_strftime_now());
    if (e.contains("output")) {
      std::string got;
      try {
        got = templates[name]->render(variables);
      } catch (const Error& err) {
        ADD_FAILURE() << "raised: " << err.what();
        continue;
      }
      EXPECT_EQ(got, e["output"].get<std::string>());
      ++outputs;
    } else {
      try {
        const std::string got = templates[name]->render(variables);
        ADD_FAILURE() << "rendered where Jinja2 raised " << e["error"] << ": " << got;
      } catch (const Error& err) {
        // raise_exception's message must come through; Python's own error texts need not match.
        if (e["error_type"] == "TemplateError") {
          EXPECT_NE(std::string(err.what()).find(e["error"].get<std::string>()), std::string::npos)
              << err.what();
        }
      }
      ++raised;
    }
  }
  EXPECT_GT(outputs, 300);
  EXPECT_GT(raised, 10);
  EXPECT_GE(templates.size(), 15u);
}

}  // namespace
}  // namespace llmnpu::jinja
