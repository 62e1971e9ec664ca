#pragma once
// Execution trace of a prefill: one lane per processor, one slice per subgraph run. Written as
// Chrome/Perfetto trace events (chrome://tracing, ui.perfetto.dev) and summarised as busy/bubble shares.
#include <string>
#include <vector>

namespace llmnpu {

struct TraceSlice {
  int lane = 0;      // processor index
  std::string name;  // "L3.qkv"
  int chunk = 0;
  int layer = -1;
  std::string kind;  // "static"/"dynamic"/"shadow"
  double start = 0;  // seconds from the trace origin
  double duration = 0;
  bool nested = false;  // runs inside another slice of its lane (not counted again as busy time)
};

struct LaneSummary {
  std::string name;
  double busy = 0;          // seconds running subgraphs (and shadow work, on the host)
  double shadow = 0;        // seconds of shadow work this processor ran
  double busy_share = 0;    // busy / span
  double bubble_share = 0;  // 1 - busy_share
};

class Trace {
 public:
  void set_lanes(std::vector<std::string> names) { lanes_ = std::move(names); }
  const std::vector<std::string>& lanes() const { return lanes_; }
  void add(TraceSlice slice) { slices_.push_back(std::move(slice)); }
  void add(std::vector<TraceSlice> slices) {
    for (auto& s : slices) slices_.push_back(std::move(s));
  }
  const std::vector<TraceSlice>& slices() const { return slices_; }
  double span() const;  // first start to last end
  std::vector<LaneSummary> summarize() const;
  void write_chrome_json(const std::string& path) const;  // throws Error if it cannot write

 private:
  std::vector<std::string> lanes_;
  std::vector<TraceSlice> slices_;
};

}  // namespace llmnpu
