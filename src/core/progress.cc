#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/timer.h"

namespace llmnpu {

ProgressBar::ProgressBar(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && isatty(2)), start_(now_seconds()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(size_t done) {
  if (!enabled_ || finished_) return;
  double t = now_seconds();
  if (done < total_ && t - last_draw_ < 0.1) return;
  last_draw_ = t;
  double frac = total_ ? double(std::min(done, total_)) / double(total_) : 1.0;
  int width = 30, filled = int(frac * width);
  double elapsed = t - start_;
  double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  std::fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu %.0fs eta %.0fs ", label_.c_str(), filled,
               "==============================", width - filled, "", done, total_, elapsed, eta);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  update(total_);
  std::fprintf(stderr, "\n");
  finished_ = true;
}

void StageProgressBars::update(const std::string& stage, size_t done, size_t total) {
  if (!bar_ || stage != stage_) {
    if (bar_) bar_->finish();
    bar_ = std::make_unique<ProgressBar>(stage, total, true);
    stage_ = stage;
  }
  bar_->update(done);
  if (done >= total) {
    bar_->finish();
    bar_.reset();
  }
}

}  // namespace llmnpu
