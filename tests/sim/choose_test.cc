// weft::choose and weft::random_bool: inside a simulation a recorded value
// choice (kChoose) that the strategies explore, traces keep, replays make
// again and shrinking lowers; outside one, real randomness.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <stdexcept>

#include "sim/harness/gtest.h"
#include "sim/harness/schedule_trace.h"
#include "sim/weft.h"

namespace {

using weft::sim::ChoiceKind;

weft::ExploreOptions quiet(const std::string& strategy) {
  weft::ExploreOptions o;
  o.strategy = strategy;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.contain = weft::ExploreOptions::Contain::kOff;
  return o;
}

// Fails only when random_bool() is true and choose(10) is 7: one schedule
// in twenty.
void coin_then_die() {
  const bool heads = weft::random_bool();
  const std::uint32_t face = weft::choose(10);
  WEFT_ASSERT_MSG(!(heads && face == 7), "heads and seven");
}

TEST(Choose, TheRandomWalkFindsTheOneValueCombinationThatFails) {
  const auto r = weft::explore(quiet("random"), coin_then_die);
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.schedule.size(), 2u);
  EXPECT_EQ(r.schedule[0].kind, ChoiceKind::kChoose);
  EXPECT_TRUE(r.schedule[0].is_value);
  EXPECT_EQ(r.schedule[0].count, 2u);
  EXPECT_EQ(r.schedule[0].chosen, 1u);
  EXPECT_EQ(r.schedule[1].count, 10u);
  EXPECT_EQ(r.schedule[1].chosen, 7u);
}

TEST(Choose, DfsTriesEveryValueExactlyOnce) {
  std::set<std::pair<bool, std::uint32_t>> seen;
  weft::ExploreOptions o = quiet("dfs");
  o.iterations = 1000;
  const auto r = weft::explore(o, [&] {
    const bool b = weft::random_bool();
    seen.insert({b, weft::choose(3)});
  });
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.schedules, 6u);
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Choose, ATraceFileRecordsTheValuesAndReplaysThem) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("weft-choose-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  weft::ExploreOptions o = quiet("random");
  o.trace_dir = dir.string();
  o.shrink = false;
  const auto found = weft::explore(o, coin_then_die);
  ASSERT_TRUE(found.failed());
  ASSERT_FALSE(found.trace_path.empty());
  const auto trace = weft::sim::read_schedule(found.trace_path);
  EXPECT_EQ(trace.schedule, found.schedule);
  EXPECT_EQ(weft::sim::choice_kind_name(16), "choose");

  weft::ExploreOptions again = quiet("random");
  again.replay_file = found.trace_path;
  const auto replayed = weft::explore(again, coin_then_die);
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.digest, found.digest);
  EXPECT_NE(replayed.failure->message.find("heads and seven"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Choose, ShrinkingLowersEachValueToTheSmallestThatStillFails) {
  // Fails when the first value is 40 or more; the second does not matter.
  weft::ExploreOptions o = quiet("random");
  o.seed = 1;
  const auto r = weft::explore(o, [] {
    const std::uint32_t a = weft::choose(100);
    const std::uint32_t b = weft::choose(100);
    WEFT_ASSERT(a < 40 || b > 1000);
  });
  ASSERT_TRUE(r.failed());
  ASSERT_TRUE(r.shrunk.has_value());
  EXPECT_GE(r.schedule[0].chosen, 40u);
  // The shrunk schedule pins the first value at 40 and leaves the second
  // at its default (past the trimmed end: 0).
  ASSERT_GE(r.shrunk->size(), 1u);
  EXPECT_EQ((*r.shrunk)[0].kind, ChoiceKind::kChoose);
  EXPECT_EQ((*r.shrunk)[0].chosen, 40u);
  EXPECT_TRUE(r.shrunk->size() == 1 || (*r.shrunk)[1].chosen == 0);
}

TEST(Choose, OutsideASimulationItIsRealRandomness) {
  std::set<std::uint32_t> faces;
  bool heads = false, tails = false;
  for (int i = 0; i < 400; ++i) {
    const std::uint32_t f = weft::choose(6);
    ASSERT_LT(f, 6u);
    faces.insert(f);
    (weft::random_bool() ? heads : tails) = true;
  }
  // Each of these misses with probability below 2^-100.
  EXPECT_EQ(faces.size(), 6u);
  EXPECT_TRUE(heads && tails);
  EXPECT_EQ(weft::choose(1), 0u);
  EXPECT_THROW(weft::choose(0), std::invalid_argument);
}

TEST(Choose, ChooseOfOneIsForcedAndNotRecorded) {
  const auto r = weft::explore(quiet("random"), [] {
    WEFT_ASSERT(weft::choose(1) == 0);
    WEFT_ASSERT(false);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_TRUE(r.schedule.empty());
}

}  // namespace
