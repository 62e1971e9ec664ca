// Each Jinja feature on its own (tests/data/jinja_features/snippets.json), rendered by our engine and
// compared with Jinja2's rendering byte for byte; where Jinja2 raised, ours must raise too.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "jinja/template.h"

namespace llmnpu::jinja {
namespace {

nlohmann::ordered_json read_json(const std::string& name) {
  std::ifstream in(std::string(LLMNPU_SOURCE_DIR) + "/tests/data/jinja_features/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return nlohmann::ordered_json::parse(s.str());
}

TEST(JinjaFeatures, RenderLikeJinja2) {
  const auto snippets = read_json("snippets.json");
  const auto expected = read_json("expected.json");
  ASSERT_EQ(snippets.size(), expected.size());
  for (size_t i = 0; i < snippets.size(); ++i) {
    const std::string source = snippets[i]["t"];
    SCOPED_TRACE(source);
    const Value variables = Value::from_json(snippets[i].value("v", nlohmann::ordered_json::object()));
    std::string got;
    bool raised = false;
    std::string message;
    try {
      got = Template(source).render(variables);
    } catch (const Error& e) {
      raised = true;
      message = e.what();
    }
    if (expected[i].contains("output")) {
      EXPECT_FALSE(raised) << message;
      EXPECT_EQ(got, expected[i]["output"].get<std::string>());
    } else {
      EXPECT_TRUE(raised) << "rendered " << got;
      if (expected[i]["error_type"] == "TemplateError") {
        EXPECT_NE(message.find(expected[i]["error"].get<std::string>()), std::string::npos) << message;
      }
    }
  }
}

// What the subset does not cover is refused with the name of the missing feature, never rendered
// differently.
TEST(JinjaFeatures, UnsupportedIsAnErrorNamingIt) {
  const auto message = [](const std::string& source) {
    try {
      Template(source).render(Value::object());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(rendered)");
  };
  EXPECT_NE(message("{{ x | no_such_filter }}").find("unsupported filter 'no_such_filter'"),
            std::string::npos);
  EXPECT_NE(message("{{ 1 is no_such_test }}").find("unsupported test 'no_such_test'"), std::string::npos);
  EXPECT_NE(message("{% include 'other.jinja' %}").find("unsupported statement {% include %}"),
            std::string::npos);
  EXPECT_NE(message("{% extends 'base' %}").find("unsupported statement {% extends %}"), std::string::npos);
  EXPECT_NE(message("{{ 'a'.no_such_method() }}").find("no_such_method"), std::string::npos);
  EXPECT_NE(message("line1\n{{ 1 + }}").find("line 2"), std::string::npos);
  EXPECT_NE(message("{% if x %}never closed").find("missing {% endif %}"), std::string::npos);
  EXPECT_NE(message("{{ 'unterminated }}").find("unterminated string"), std::string::npos);
  EXPECT_NE(message("{% break %}").find("outside a for loop"), std::string::npos);
  EXPECT_NE(message(std::string("{{ '\xff' }}")).find("not valid UTF-8"), std::string::npos);
}

// Hostile templates stop at the render limits instead of running away.
TEST(JinjaFeatures, LimitsStopRunawayTemplates) {
  RenderLimits small;
  small.max_output_bytes = 1000;
  small.max_loop_iterations = 500;
  EXPECT_THROW(Template("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                   .render(Value::object(), small),
               Error);
  EXPECT_THROW(Template("{{ 'x' * 100000 }}").render(Value::object(), small), Error);
  EXPECT_THROW(Template("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}").render(Value::object(), small),
               Error);
  EXPECT_THROW(Template("{{ range(1000000) | length }}").render(Value::object()), Error);
  EXPECT_THROW(Template("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").render(Value::object()),
               Error);
  // Integer powers take time logarithmic in the exponent, and fall back to floats on overflow.
  EXPECT_EQ(
      Template("{{ 1 ** 3980433795905195575 }}|{{ (-1) ** 3980433795905195575 }}|{{ 0 ** 99999999999 }}")
          .render(Value::object()),
      "1|-1|0");
  EXPECT_EQ(Template("{{ 3 ** 39 }}|{{ (-2) ** 63 }}|{{ 7 ** 0 }}").render(Value::object()),
            "4052555153018976267|-9223372036854775808|1");
  EXPECT_EQ(Template("{{ (2 ** 64) > 1.8e19 }}").render(Value::object()), "True");
  std::string deep;
  for (int i = 0; i < 2000; ++i) deep += "(";
  EXPECT_THROW(Template("{{ " + deep + " }}"), Error);
  std::string nested_ifs;
  for (int i = 0; i < 2000; ++i) nested_ifs += "{% if true %}";
  EXPECT_THROW(Template{nested_ifs}, Error);
}

// Numbers at the edges of int64 give an error or Jinja2's value, never undefined behaviour
// (the sanitized fuzz build checks the casts).
TEST(JinjaFeatures, IntegerEdgesAreErrorsOrExact) {
  const auto render = [](const std::string& source) { return Template(source).render(Value::object()); };
  EXPECT_THROW(render("{{ 1e300 | int }}"), Error);
  EXPECT_THROW(render("{{ '1e300' | int }}"), Error);
  EXPECT_THROW(render("{{ '%d' % 1e300 }}"), Error);
  EXPECT_THROW(render("{{ (1e308 * 10) | int }}"), Error);
  EXPECT_EQ(render("{{ 2.9 | int }}|{{ -2.9 | int }}|{{ '%d' % 7.5 }}|{{ ' 1_000 ' | int }}"), "2|-2|7|1000");
  EXPECT_EQ(render("{{ -(-9223372036854775807 - 1) > 9.2e18 }}"), "True");
  EXPECT_EQ(render("{{ [1, 2, 3][1::9223372036854775807] }}|{{ [1, 2, 3][::-9223372036854775807] }}"),
            "[2]|[3]");
  EXPECT_EQ(render("{{ '{99999999999999999999999}'.format(1) if false else 'ok' }}"), "ok");
  EXPECT_THROW(render("{{ '{99999999999999999999999}'.format(1) }}"), Error);
  EXPECT_EQ(
      render("{% set x = [{'a': [5, 6]}] %}{{ x | map(attribute='a.99999999999999999999999') | list }}"),
      "[Undefined]");
}

}  // namespace
}  // namespace llmnpu::jinja
