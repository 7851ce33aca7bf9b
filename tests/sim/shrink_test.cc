#include "sim/harness/shrink.h"

#include <gtest/gtest.h>

#include "sim/harness/gtest.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

// A bug that needs two preemptions. The writer stores 1 then 2; the
// reader fails if its first load sees 1 and its second sees 2. So the
// writer must be preempted between its stores (the reader's first load
// lands there) and the reader between its loads (the second store lands
// there): no schedule with fewer than two preemptions fails. Noise work
// between the steps and a bystander strand that has nothing to do with
// the bug make a random walk find it deep in a long schedule, full of
// needless switches.
void two_preemption_bug() {
  Atomic<int> x{0};
  auto noise = [](int n) {
    Atomic<int> local{0};
    for (int i = 0; i < n; ++i) local.fetch_add(1);
  };
  auto bystander = spawn("bystander", [&] { noise(150); });
  auto writer = spawn("writer", [&] {
    noise(30);
    x.store(1);
    noise(30);
    x.store(2);
  });
  auto reader = spawn("reader", [&] {
    noise(30);
    const int first = x.load();
    noise(30);
    const int second = x.load();
    WEFT_ASSERT_MSG(!(first == 1 && second == 2),
                    "the reader saw both of the writer's stores one by one");
  });
  reader.join();
  writer.join();
  bystander.join();
}

TEST(Shrink,
     ADeepTwoPreemptionBugShrinksToAtMostThreePreemptionsAndFewerSteps) {
  ExploreOptions o;
  o.strategy = "random";
  o.iterations = 5000;
  o.use_environment = false;
  o.print = false;
  o.shrink = false;
  const auto found = explore(o, two_preemption_bug);
  ASSERT_TRUE(found.failed()) << "random walk missed the two-preemption bug";
  const std::size_t original_preemptions = count_preemptions(found.schedule);
  // Found deep in a long random schedule, with many needless switches.
  ASSERT_GT(found.steps, 150u);
  ASSERT_GT(original_preemptions, 10u);

  const auto shrunk =
      shrink(found.schedule, *found.failure, two_preemption_bug, {});
  EXPECT_EQ(shrunk.failure.kind, FailureKind::kAssertion);
  EXPECT_LE(count_preemptions(shrunk.schedule), 3u);
  // The bug needs two: fewer would mean the shrinker found a "failure" the
  // program cannot have.
  EXPECT_GE(count_preemptions(shrunk.schedule), 2u);
  // Fewer steps: the failing run no longer spends steps on the bystander
  // before the reader fails.
  EXPECT_LT(shrunk.steps, found.steps);
  EXPECT_LT(shrunk.schedule.size(), found.schedule.size());
  std::printf(
      "shrunk: %zu pinned choices, %zu preemptions, %llu steps (from %zu, "
      "%zu, %llu) in %llu runs\n",
      shrunk.schedule.size(), count_preemptions(shrunk.schedule),
      static_cast<unsigned long long>(shrunk.steps), found.schedule.size(),
      original_preemptions, static_cast<unsigned long long>(found.steps),
      static_cast<unsigned long long>(shrunk.runs));

  // The shrunk schedule replays exactly, still fails, and takes the same
  // (fewer) steps.
  Scheduler sched(RunLimits{});
  ReplayStrategy replay(shrunk.schedule, /*lenient_tail=*/true);
  const auto again = sched.run(replay, 0, two_preemption_bug);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, FailureKind::kAssertion);
  EXPECT_EQ(again.steps, shrunk.steps);
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
