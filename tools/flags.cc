#include "flags.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <thread>

#include "core/error.h"
#include "core/printable.h"
#include "core/thread_pool.h"

namespace llmnpu::cli {

namespace {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::printf("%s", app.help("", CLI::AppFormatMode::All).c_str());
    return 0;
  } catch (const CLI::ExtrasError& e) {
    fail(one_line(e.what()), " (see ", app.get_name(), " --help)");
  } catch (const CLI::ParseError& e) {
    fail(one_line(e.what()));
  }
}

CLI::Validator integer_in(int64_t lo, int64_t hi, const std::string& words) {
  const std::string range = words.empty() ? str("an integer from ", lo, " to ", hi) : words;
  return CLI::Validator(
      [lo, hi, range](std::string& value) -> std::string {
        int64_t v = 0;
        const char* end = value.data() + value.size();
        auto [ptr, ec] = std::from_chars(value.data() + (!value.empty() && value[0] == '+'), end, v);
        if (ec == std::errc() && ptr == end && v >= lo && v <= hi) return "";
        return str("must be ", range, " (got '", printable(value, 80), "')");
      },
      str("INT in [", lo, ", ", hi, "]"));
}

CLI::Validator number_in(double lo, double hi, bool lo_open) {
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        double v = 0;
        const char* end = value.data() + value.size();
        auto [ptr, ec] = std::from_chars(value.data(), end, v);
        const bool above = lo_open ? v > lo : v >= lo;
        if (ec == std::errc() && ptr == end && std::isfinite(v) && above && v <= hi) return "";
        return str("must be a number ", lo_open ? "above " : "from ", format_number(lo),
                   lo_open ? " up to " : " to ", format_number(hi), " (got '", printable(value, 80), "')");
      },
      str("NUMBER in ", lo_open ? "(" : "[", format_number(lo), ", ", format_number(hi), "]"));
}

int max_threads() { return ThreadPool::max_threads(); }

CLI::Validator thread_count() { return integer_in(0, max_threads(), ""); }

}  // namespace llmnpu::cli
