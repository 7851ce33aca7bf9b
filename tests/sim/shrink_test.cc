#include "sim/shrink.h"

#include <gtest/gtest.h>

#include "sim/gtest.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

// Three strands do noise work, then increment a shared counter by
// load-then-store. The counter ends at 1 only if all three loads happen
// before any store: a bug that needs two preemptions.
void double_lost_update() {
  Atomic<int> counter{0};
  std::vector<JoinHandle> strands;
  for (int s = 0; s < 3; ++s) {
    strands.push_back(spawn("inc-" + std::to_string(s), [&] {
      Atomic<int> noise{0};
      for (int i = 0; i < 60; ++i) noise.fetch_add(1);
      const int seen = counter.load();
      counter.store(seen + 1);
    }));
  }
  for (auto& s : strands) s.join();
  WEFT_ASSERT_MSG(counter.load() != 1, "two updates lost");
}

TEST(Shrink,
     ADeepTwoPreemptionBugShrinksToAtMostThreePreemptionsAndFewerSteps) {
  ExploreOptions o;
  o.strategy = "random";
  o.iterations = 5000;
  o.use_environment = false;
  o.print = false;
  const auto found = explore(o, double_lost_update);
  ASSERT_TRUE(found.failed()) << "random walk missed the double lost update";
  const std::size_t original_preemptions = count_preemptions(found.schedule);
  // Found deep in a long random schedule, with many needless switches.
  ASSERT_GT(found.steps, 150u);
  ASSERT_GT(original_preemptions, 10u);

  const auto shrunk =
      shrink(found.schedule, *found.failure, double_lost_update, {});
  EXPECT_EQ(shrunk.failure.kind, FailureKind::kAssertion);
  EXPECT_LE(count_preemptions(shrunk.schedule), 3u);
  // Fewer steps to replay: past the end of the shrunk schedule every
  // choice is the default (keep running), so only its prefix is recorded.
  EXPECT_LT(shrunk.schedule.size(), found.schedule.size());
  ASSERT_FALSE(shrunk.schedule.empty());
  EXPECT_LT(shrunk.schedule.back().step, found.steps);
  std::printf(
      "shrunk: %zu choices, %zu preemptions, %llu steps (from %zu, "
      "%zu, %llu) in %llu runs\n",
      shrunk.schedule.size(), count_preemptions(shrunk.schedule),
      static_cast<unsigned long long>(shrunk.steps), found.schedule.size(),
      original_preemptions, static_cast<unsigned long long>(found.steps),
      static_cast<unsigned long long>(shrunk.runs));

  // The shrunk schedule replays exactly and still fails.
  Scheduler sched(RunLimits{});
  ReplayStrategy replay(shrunk.schedule, /*lenient_tail=*/true);
  const auto again = sched.run(replay, 0, double_lost_update);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, FailureKind::kAssertion);
  EXPECT_EQ(count_preemptions(again.schedule),
            count_preemptions(shrunk.schedule));
}

TEST(Shrink, ASchedulerThatAlreadyFailsMinimallyStaysFailing) {
  auto body = [] {
    Atomic<int> x{0};
    auto a = spawn("a", [&] { x.store(1); });
    WEFT_ASSERT(x.load() == 0);
    a.join();
  };
  ExploreOptions o;
  o.iterations = 200;
  o.use_environment = false;
  o.print = false;
  const auto found = explore(o, body);
  ASSERT_TRUE(found.failed());
  const auto shrunk = shrink(found.schedule, *found.failure, body, {});
  EXPECT_LE(shrunk.schedule.size(), found.schedule.size());
  Scheduler sched(RunLimits{});
  ReplayStrategy replay(shrunk.schedule, /*lenient_tail=*/true);
  EXPECT_TRUE(sched.run(replay, 0, body).failed());
}

}  // namespace
}  // namespace weft::sim
