#pragma once
// A one-line progress bar on stderr, redrawn in place; silent when stderr is not a terminal
// unless forced (so logs and JSON on stdout stay clean).
#include <cstddef>
#include <memory>
#include <string>

namespace llmnpu {

class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total, bool enabled = true);
  ~ProgressBar();
  void update(size_t done);
  void finish();

 private:
  std::string label_;
  size_t total_;
  bool enabled_;
  bool finished_ = false;
  double start_;
  double last_draw_ = 0;
};

// One bar per named stage of a long job (calibrate, quantize, held-out...), replaced when the stage
// changes and finished when a stage reaches its total: what a library progress callback drives.
class StageProgressBars {
 public:
  void update(const std::string& stage, size_t done, size_t total);

 private:
  std::string stage_;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace llmnpu
