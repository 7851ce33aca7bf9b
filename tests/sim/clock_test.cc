#include "sim/clock.h"

#include <gtest/gtest.h>

#include <atomic>

#include "sim/harness/gtest.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

ExploreOptions options(std::uint64_t iterations) {
  ExploreOptions o;
  o.iterations = iterations;
  o.limits.max_steps = 10'000;
  return o;
}

TEST(Clock, AnHourOfSleepTakesAnHourOfVirtualTime) {
  auto r = weft::testing::explore(options(2), [] {
    const auto start = Clock::now();
    for (int i = 0; i < 3600; ++i) sleep_for(std::chrono::seconds(1));
    WEFT_ASSERT(Clock::now() - start == std::chrono::hours(1));
  });
  EXPECT_FALSE(r.failed());
}

TEST(Clock, SleepersWakeInDeadlineOrder) {
  auto r = weft::testing::explore(options(200), [] {
    std::vector<int> woke;
    Mutex m;
    std::vector<JoinHandle> strands;
    for (int i : {3, 1, 2}) {
      strands.push_back(spawn([&, i] {
        sleep_for(std::chrono::seconds(i));
        std::lock_guard lock(m);
        woke.push_back(i);
      }));
    }
    for (auto& s : strands) s.join();
    WEFT_ASSERT((woke == std::vector<int>{1, 2, 3}));
  });
  EXPECT_FALSE(r.failed());
}

TEST(Clock, OutsideASimulationNowIsTheSteadyClockAndMonotonic) {
  ASSERT_EQ(Scheduler::current(), nullptr);
  const auto a = Clock::now();
  const auto b = Clock::now();
  EXPECT_LE(a, b);
  EXPECT_GT(a.time_since_epoch().count(), 0);
}

TEST(Clock, RealTimerFiresAndCancelledOneDoesNot) {
  std::atomic<int> fired{0};
  Latch done(1);
  // Far enough away that a loaded machine cannot let it fire before the
  // cancel (it was 1 ms, and fired under a parallel ctest in CI).
  auto cancelled = call_after(std::chrono::hours(1), [&] { fired += 100; });
  EXPECT_TRUE(cancelled.cancel());
  call_after(std::chrono::milliseconds(2), [&] {
    fired += 1;
    done.count_down();
  });
  done.wait();
  EXPECT_EQ(fired.load(), 1);
}

}  // namespace
}  // namespace weft::sim
