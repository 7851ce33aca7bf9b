#include "sim/dfs_strategy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sim/weft.h"

namespace weft::sim {
namespace {

// Two strands of `n` atomic increments each: C(2n, n) interleavings of
// the increments, and the search visits each schedule exactly once.
std::set<std::uint64_t> digests_of_all_schedules(DfsStrategy& dfs, int n,
                                                 std::uint64_t* runs) {
  RunLimits limits;
  Scheduler sched(limits);
  std::set<std::uint64_t> seen;
  *runs = 0;
  while (!dfs.finished()) {
    const RunResult r = sched.run(dfs, 0, [n] {
      Atomic<int> x{0};
      auto t = spawn("a", [&] {
        for (int i = 0; i < n; ++i) x.fetch_add(1);
      });
      for (int i = 0; i < n; ++i) x.fetch_add(1);
      t.join();
    });
    EXPECT_FALSE(r.failed());
    seen.insert(digest(r.schedule));
    ++*runs;
  }
  return seen;
}

TEST(DfsStrategy, VisitsEveryScheduleOnceAndThenFinishes) {
  DfsStrategy dfs;
  std::uint64_t runs = 0;
  const auto seen = digests_of_all_schedules(dfs, 3, &runs);
  EXPECT_EQ(runs, dfs.schedules());
  EXPECT_EQ(seen.size(), runs) << "a schedule was run twice";
  EXPECT_FALSE(dfs.bound_reached());
  // Every interleaving of the 3+3 increments is among them (the spawn and
  // join points add schedules on top).
  EXPECT_GE(runs, 20u);
}

TEST(DfsStrategy, APreemptionBoundCutsTheTreeAndSaysSo) {
  DfsStrategy all;
  DfsStrategy bounded(1);
  std::uint64_t runs_all = 0, runs_bounded = 0;
  digests_of_all_schedules(all, 4, &runs_all);
  const auto seen = digests_of_all_schedules(bounded, 4, &runs_bounded);
  EXPECT_LT(runs_bounded, runs_all);
  EXPECT_TRUE(bounded.bound_reached());
  EXPECT_EQ(seen.size(), runs_bounded);
}

TEST(DfsStrategy, FindsTheLostUpdateInEverySchedulesTree) {
  DfsStrategy dfs;
  Scheduler sched(RunLimits{});
  std::uint64_t lost = 0;
  while (!dfs.finished()) {
    int final_value = 0;
    sched.run(dfs, 0, [&] {
      Atomic<int> x{0};
      auto t = spawn("a", [&] { x.store(x.load() + 1); });
      x.store(x.load() + 1);
      t.join();
      final_value = x.load();
    });
    if (final_value == 1) ++lost;
  }
  EXPECT_GT(lost, 0u);
  EXPECT_LT(lost, dfs.schedules());
}

// A consumer waiting in a loop for a producer's item. With spurious
// wake-ups offered and the preemption bound spent, a search that let the
// waiter wake spuriously again and again, the producer never running,
// reported a livelock (the step limit) that no real thread can have: a
// strand that has run on alone since its last spurious wake-up is not
// offered another.
TEST(DfsStrategy, ABoundedSearchOfAWaitLoopFindsNoLivelock) {
  for (int bound : {0, 1, 2}) {
    DfsStrategy dfs(bound);
    RunLimits limits;
    limits.max_steps = 2000;
    Scheduler sched(limits);
    std::uint64_t runs = 0;
    while (!dfs.finished()) {
      const RunResult r = sched.run(dfs, 0, [] {
        Mutex m;
        CondVar cv;
        bool ready = false;
        auto consumer = spawn("consumer", [&] {
          std::unique_lock<Mutex> lock(m);
          while (!ready) cv.wait(lock);
        });
        auto producer = spawn("producer", [&] {
          std::lock_guard<Mutex> lock(m);
          ready = true;
          cv.notify_one();
        });
        consumer.join();
        producer.join();
      });
      ASSERT_FALSE(r.failed()) << "bound " << bound << ", schedule " << runs
                               << ": " << r.failure->message;
      ++runs;
    }
    EXPECT_GT(runs, 1u) << "bound " << bound;
  }
}

TEST(DfsStrategy, ADelayBoundOfZeroRunsTheOneRoundRobinSchedule) {
  DfsStrategy none(DfsStrategy::kUnbounded, 0);
  std::uint64_t runs = 0;
  digests_of_all_schedules(none, 3, &runs);
  EXPECT_EQ(runs, 1u);
  EXPECT_TRUE(none.bound_reached());
  EXPECT_EQ(none.environment(), "WEFT_STRATEGY=dfs WEFT_DELAY_BOUND=0");
}

TEST(DfsStrategy, EachDelayMoreGrowsTheTreeUpToTheWholeOfIt) {
  DfsStrategy all;
  std::uint64_t runs_all = 0;
  const auto every = digests_of_all_schedules(all, 3, &runs_all);
  std::uint64_t previous = 0;
  for (int delays = 0;; ++delays) {
    DfsStrategy bounded(DfsStrategy::kUnbounded, delays);
    std::uint64_t runs = 0;
    const auto seen = digests_of_all_schedules(bounded, 3, &runs);
    EXPECT_EQ(seen.size(), runs);
    for (std::uint64_t d : seen) EXPECT_EQ(every.count(d), 1u);
    EXPECT_GT(runs, previous) << delays;
    previous = runs;
    if (!bounded.bound_reached()) break;
    ASSERT_LT(delays, 50);
  }
  EXPECT_EQ(previous, runs_all);
}

TEST(DfsStrategy, BothBoundsTogetherCutMoreThanEither) {
  std::uint64_t p = 0, d = 0, both = 0;
  DfsStrategy by_preemptions(1), by_delays(DfsStrategy::kUnbounded, 2),
      by_both(1, 2);
  digests_of_all_schedules(by_preemptions, 3, &p);
  digests_of_all_schedules(by_delays, 3, &d);
  digests_of_all_schedules(by_both, 3, &both);
  EXPECT_LE(both, std::min(p, d));
  EXPECT_EQ(by_both.environment(),
            "WEFT_STRATEGY=dfs WEFT_PREEMPTION_BOUND=1 WEFT_DELAY_BOUND=2");
  EXPECT_EQ(by_both.coverage_note(),
            "every schedule within 1 preemptions and 2 delays");
}

}  // namespace
}  // namespace weft::sim
