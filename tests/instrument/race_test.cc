// Data races on plain memory in instrumented code are failures: a plain
// int two strands update without synchronisation is reported with both
// accesses' strands and source lines, and the same program with the
// update under a weft::Mutex (or on a std::atomic) reports none over every
// schedule within the bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <string>

#include "sim/weft.h"
#include "tests/instrument/explore_helpers.h"

namespace weft::test {
namespace {

using sim::FailureKind;
using ::testing::HasSubstr;

int g_hits = 0;
weft::Mutex g_hits_mu("hits");

void count_hit() {
  g_hits = g_hits + 1;  // the racy line: a read and a write
}
constexpr int kRacyLine = __LINE__ - 2;

void count_hit_locked() {
  std::lock_guard lock(g_hits_mu);
  g_hits = g_hits + 1;
}

void two_counters(void (*count)()) {
  g_hits = 0;
  auto a = weft::spawn("left", count);
  auto b = weft::spawn("right", count);
  a.join();
  b.join();
}

// The whole report is docs/guide.md's, checked as the doc output
// instrument_strand_race.
TEST(Races, APlainIntUpdatedByTwoStrandsIsADataRaceWithBothLines) {
  const sim::ExploreResult r =
      exhaustive("dfs", 2, [] { two_counters(count_hit); });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kDataRace);
  EXPECT_EQ(r.schedules, 1u);  // no interleaving needed: happens-before
  const std::string& m = r.failure->message;
  std::cout << m << "\n";
  EXPECT_THAT(m, HasSubstr("data race on global 'weft::test::(anonymous "
                           "namespace)::g_hits'"));
  const std::string line = "race_test.cc:" + std::to_string(kRacyLine);
  // Both accesses, each with its strand and the racy line.
  EXPECT_THAT(m, HasSubstr("of 4 bytes by strand 'right' at step"));
  EXPECT_THAT(m, HasSubstr("previous write of 4 bytes by strand 'left'"));
  const auto first = m.find(line);
  ASSERT_NE(first, std::string::npos) << m;
  EXPECT_NE(m.find(line, first + 1), std::string::npos) << m;
  EXPECT_THAT(m, HasSubstr("count_hit()"));
}

TEST(Races, TheRaceReplaysFromItsSchedule) {
  auto body = [] { two_counters(count_hit); };
  sim::ExploreOptions o = quiet_options("pct", 100);
  const sim::ExploreResult found = sim::explore(o, body);
  ASSERT_TRUE(found.failed());
  const sim::ExploreResult again = replay(found, body);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, FailureKind::kDataRace);
  EXPECT_EQ(again.failure->message, found.failure->message);
  EXPECT_EQ(again.failure->step, found.failure->step);
}

TEST(Races, UnderAWeftMutexTheCounterHasNoRaceInAnySchedule) {
  const sim::ExploreResult r =
      exhaustive("dfs", 2, [] { two_counters(count_hit_locked); });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
  EXPECT_GT(r.schedules, 10u);
  std::cout << "fixed counter: " << r.summary << "\n";
}

TEST(Races, AStdAtomicCounterHasNoRaceInAnySchedule) {
  const sim::ExploreResult r = exhaustive("dfs", 2, [] {
    std::atomic<int> hits{0};
    auto hit = [&] { hits.fetch_add(1); };
    auto a = weft::spawn("left", hit);
    auto b = weft::spawn("right", hit);
    a.join();
    b.join();
    WEFT_ASSERT(hits.load() == 2);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
}

// Join orders a child's accesses before the parent's next ones, spawn the
// parent's earlier ones before the child's; a latch count-down before a
// waiter's return; a semaphore release before the acquire it satisfies.
TEST(Races, SpawnJoinLatchAndSemaphoreOrderPlainAccesses) {
  const sim::ExploreResult r = exhaustive("dfs", 2, [] {
    int a = 1, b = 0, c = 0;
    weft::Latch ready(1);
    weft::Semaphore handed(0);
    auto writer = weft::spawn("writer", [&] {
      b = a + 1;
      ready.count_down();
      c = 3;
      handed.release();
    });
    auto reader = weft::spawn("reader", [&] {
      ready.wait();
      WEFT_ASSERT(b == 2);
      handed.acquire();
      WEFT_ASSERT(c == 3);
    });
    writer.join();
    reader.join();
    a = b + c;
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
}

// Without spurious wake-ups: each would add a retry to the tree, which
// the predicate loop makes unbounded.
TEST(Races, ACondVarHandOffUnderItsMutexHasNoRace) {
  sim::ExploreOptions o = quiet_options("dfs", 10'000'000);
  o.preemption_bound = 2;
  o.limits.spurious_wakeups = false;
  const sim::ExploreResult r = sim::explore(o, [] {
    weft::Mutex mu("box");
    weft::CondVar cv("full");
    int value = 0;
    bool full = false;
    auto producer = weft::spawn("producer", [&] {
      value = 42;
      std::lock_guard lock(mu);
      full = true;
      cv.notify_one();
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return full; });
    }
    WEFT_ASSERT(value == 42);
    producer.join();
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
}

}  // namespace
}  // namespace weft::test
