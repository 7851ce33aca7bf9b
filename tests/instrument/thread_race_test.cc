// A data race between two std::threads (thread_counter.cc, no weft header:
// its threads are weft::intercept's strands, its accesses instrumented) is
// found in the first schedule and reported with both threads and both
// source lines; the same program with the increment under a std::mutex
// reports none over every schedule within two preemptions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "sim/weft.h"
#include "tests/instrument/explore_helpers.h"
#include "tests/instrument/thread_counter.h"

namespace weft::test {
namespace {

using sim::FailureKind;
using ::testing::HasSubstr;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(ThreadRaces, APlainIntTwoStdThreadsBumpIsADataRaceWithBothLines) {
  const sim::ExploreResult r = exhaustive(
      "dfs", 2, [] { WEFT_ASSERT(thread_counter::count_hits_racy() == 2); });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kDataRace);
  EXPECT_EQ(r.schedules, 1u);  // no interleaving needed: happens-before
  const std::string& m = r.failure->message;
  std::cout << r.report << "\n";
  EXPECT_THAT(m, HasSubstr("data race on global 'thread_counter::"));
  EXPECT_THAT(m, HasSubstr("by strand 'thread-2' at step"));
  EXPECT_THAT(m, HasSubstr("previous write of 4 bytes by strand 'thread-1'"));
  const std::string line =
      "thread_counter.cc:" + std::to_string(thread_counter::kRacyLine) + ":";
  EXPECT_EQ(occurrences(m, line), 2u) << m;
  EXPECT_EQ(occurrences(m, "add_hit()"), 2u) << m;
}

TEST(ThreadRaces, TheStdThreadRaceReplaysFromItsSchedule) {
  auto body = [] { thread_counter::count_hits_racy(); };
  const sim::ExploreResult found =
      sim::explore(quiet_options("pct", 100), body);
  ASSERT_TRUE(found.failed());
  const sim::ExploreResult again = replay(found, body);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, FailureKind::kDataRace);
  EXPECT_EQ(again.failure->message, found.failure->message);
}

// The same search as the racy program's (dfs, every schedule within two
// preemptions), run to the end.
TEST(ThreadRaces, UnderAStdMutexTheStdThreadsHaveNoRaceInAnySchedule) {
  const sim::ExploreResult r = exhaustive(
      "dfs", 2, [] { WEFT_ASSERT(thread_counter::count_hits_locked() == 2); });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
  EXPECT_GT(r.schedules, 10u);
  std::cout << "std::mutex counter: " << r.summary << "\n";
}

TEST(ThreadRaces, OutsideASimulationTheProgramRunsOnRealThreads) {
  EXPECT_EQ(thread_counter::count_hits_locked(), 2);
}

}  // namespace
}  // namespace weft::test
