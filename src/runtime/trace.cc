#include "runtime/trace.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace llmnpu {

double Trace::span() const {
  if (slices_.empty()) return 0;
  double a = slices_[0].start, b = 0;
  for (const auto& s : slices_) {
    a = std::min(a, s.start);
    b = std::max(b, s.start + s.duration);
  }
  return b - a;
}

std::vector<LaneSummary> Trace::summarize() const {
  std::vector<LaneSummary> out(lanes_.size());
  for (size_t i = 0; i < lanes_.size(); ++i) out[i].name = lanes_[i];
  for (const auto& s : slices_) {
    if (s.lane < 0 || size_t(s.lane) >= out.size()) continue;
    if (!s.nested) out[size_t(s.lane)].busy += s.duration;
    if (s.kind.rfind("shadow", 0) == 0) out[size_t(s.lane)].shadow += s.duration;
  }
  double total = span();
  for (auto& l : out) {
    l.busy_share = total > 0 ? l.busy / total : 0;
    l.bubble_share = total > 0 ? 1 - l.busy_share : 0;
  }
  return out;
}

void Trace::write_chrome_json(const std::string& path) const {
  nlohmann::json events = nlohmann::json::array();
  for (size_t i = 0; i < lanes_.size(); ++i)
    events.push_back(
        {{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", i}, {"args", {{"name", lanes_[i]}}}});
  for (const auto& s : slices_)
    events.push_back({{"name", s.name + " c" + std::to_string(s.chunk)},
                      {"cat", s.kind},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", s.lane},
                      {"ts", s.start * 1e6},
                      {"dur", s.duration * 1e6},
                      {"args", {{"chunk", s.chunk}, {"layer", s.layer}, {"kind", s.kind}}}});
  std::ofstream out(path);
  check(bool(out), "cannot write trace '", path, "'");
  out << nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ms"}}.dump(1) << "\n";
  check(bool(out), "cannot write trace '", path, "'");
}

}  // namespace llmnpu
