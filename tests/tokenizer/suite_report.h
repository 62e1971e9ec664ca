#pragma once
// Golden-suite helper: checks every case, reports the first mismatches in detail and prints one summary
// line per suite ("[suite] NAME: P/N passed") so pass counts show in the test output.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace llmnpu::test {

inline std::string ids_text(const std::vector<int32_t>& ids) {
  std::ostringstream out;
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? " " : "") << ids[i];
  return out.str();
}

class SuiteReport {
 public:
  explicit SuiteReport(std::string name) : name_(std::move(name)) {}
  ~SuiteReport() {
    std::printf("[suite] %s: %zu/%zu passed\n", name_.c_str(), passed_, total_);
    std::fflush(stdout);
    EXPECT_EQ(passed_, total_) << name_;
    EXPECT_GT(total_, 0u) << name_ << " ran no cases";
  }
  // Records one case; all checks of a case must pass for it to count.
  void record(const std::string& case_id, bool ok, const std::string& detail) {
    ++total_;
    if (ok) {
      ++passed_;
    } else if (++reported_ <= 8) {
      ADD_FAILURE() << name_ << " case " << case_id << ": " << detail;
    }
  }

 private:
  std::string name_;
  size_t total_ = 0, passed_ = 0, reported_ = 0;
};

}  // namespace llmnpu::test
