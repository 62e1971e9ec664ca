#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmnpu {
namespace {

// Streams pieces through the matcher; returns what was shown.
std::string stream(StopStrings& stops, const std::vector<std::string>& pieces) {
  std::string shown;
  for (const std::string& p : pieces) {
    shown += stops.push(p);
    if (stops.stopped()) return shown;
  }
  return shown + stops.flush();
}

TEST(StopStrings, StopsAtTheFirstStopStringAcrossPieces) {
  StopStrings stops({"\nUser:", "###"});
  EXPECT_EQ(stream(stops, {"Hello", " there\nUs", "er: next"}), "Hello there");
  EXPECT_TRUE(stops.stopped());
  EXPECT_EQ(stops.push("more"), "");
}

TEST(StopStrings, HoldsBackOnlyWhatCouldBecomeAStopString) {
  StopStrings stops({"</end>"});
  EXPECT_EQ(stops.push("a </e"), "a ");  // "</e" could still become "</end>"
  EXPECT_EQ(stops.push("x"), "</ex");    // it did not
  EXPECT_EQ(stops.push("<"), "");
  EXPECT_EQ(stops.flush(), "<");  // the end without a stop string shows the rest
  EXPECT_FALSE(stops.stopped());
}

TEST(StopStrings, EarliestOfSeveralWinsAndEmptyIsRefused) {
  StopStrings stops({"cd", "b"});
  EXPECT_EQ(stream(stops, {"abcd"}), "a");
  EXPECT_THROW(StopStrings({""}), Error);
  StopStrings none({});
  EXPECT_EQ(stream(none, {"a", "b"}), "ab");
}

}  // namespace
}  // namespace llmnpu
