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

}  // namespace
}  // namespace weft::sim
