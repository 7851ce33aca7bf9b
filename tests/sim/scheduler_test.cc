#include "sim/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sim/harness/gtest.h"
#include "sim/weft.h"
#include "tests/sim/child_process.h"

namespace weft::sim {
namespace {

using ::testing::HasSubstr;

// A body with spawns, locks, waits, sleeps and timers: enough kinds of
// choice that any hidden nondeterminism would change the schedule.
void busy_body() {
  Mutex m("m");
  CondVar cv("cv");
  int produced = 0;
  std::vector<JoinHandle> strands;
  for (int i = 0; i < 3; ++i) {
    strands.push_back(spawn("producer-" + std::to_string(i), [&, i] {
      sleep_for(std::chrono::milliseconds(i));
      std::unique_lock lock(m);
      ++produced;
      cv.notify_all();
    }));
  }
  call_after(std::chrono::milliseconds(1), [] { yield_now(); });
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return produced == 3; });
  }
  for (auto& s : strands) s.join();
}

std::uint64_t digest_of(Strategy& strategy, std::uint64_t seed,
                        const std::function<void()>& body) {
  Scheduler sched(RunLimits{});
  RunResult r = sched.run(strategy, seed, body);
  EXPECT_FALSE(r.failed()) << r.failure->message;
  EXPECT_GT(r.schedule.size(), 5u);
  return digest(r.schedule);
}

TEST(Scheduler, SameSeedGivesIdenticalDigestTwiceInOneProcess) {
  for (std::uint64_t seed : {1u, 2u, 77u}) {
    RandomStrategy r1, r2;
    EXPECT_EQ(digest_of(r1, seed, busy_body), digest_of(r2, seed, busy_body));
    PctStrategy p1(3, 40), p2(3, 40);
    EXPECT_EQ(digest_of(p1, seed, busy_body), digest_of(p2, seed, busy_body));
  }
}

TEST(Scheduler, DifferentSeedsExploreDifferentSchedules) {
  std::set<std::uint64_t> digests;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    RandomStrategy r;
    digests.insert(digest_of(r, seed, busy_body));
  }
  EXPECT_GT(digests.size(), 5u);
}

RC_GTEST_PROP(Scheduler, AnySeedGivesTheSameDigestWhenRunTwice,
              (std::uint64_t seed)) {
  RandomStrategy r1, r2;
  Scheduler a(RunLimits{}), b(RunLimits{});
  const auto first = a.run(r1, seed, busy_body);
  const auto second = b.run(r2, seed, busy_body);
  RC_ASSERT(!first.failed());
  RC_ASSERT(digest(first.schedule) == digest(second.schedule));
  RC_ASSERT(first.schedule == second.schedule);
}

// Prints the digest of seed 12345 when asked to by the test below, which
// runs this binary again: a second process, other addresses (ASLR), the
// same digest.
TEST(SchedulerDigestPrinter, DigestOfSeed12345IsStable) {
  RandomStrategy r;
  const std::uint64_t d = digest_of(r, 12345, busy_body);
  EXPECT_NE(d, 0u);
  if (std::getenv("WEFT_TEST_PRINT_DIGEST") != nullptr)
    std::printf("digest=%llu\n", static_cast<unsigned long long>(d));
}

TEST(Scheduler, SameSeedGivesIdenticalDigestInTwoSeparateProcesses) {
  RandomStrategy r;
  const std::uint64_t here = digest_of(r, 12345, busy_body);
  for (int process = 0; process < 2; ++process) {
    const auto there = testing::run_child_and_read(
        "WEFT_TEST_PRINT_DIGEST=1", "SchedulerDigestPrinter.*", "digest");
    ASSERT_TRUE(there.has_value()) << "process " << process;
    EXPECT_EQ(*there, here) << "process " << process;
  }
}

TEST(Scheduler, TimersFireInDeadlineOrderThenFifo) {
  std::vector<std::string> fired;
  std::vector<Nanos> at;
  auto body = [&] {
    fired.clear();
    at.clear();
    auto record = [&](std::string name) {
      return [&fired, &at, name] {
        fired.push_back(name);
        at.push_back(Clock::now().time_since_epoch());
      };
    };
    call_after(std::chrono::seconds(2), record("b1"));
    call_after(std::chrono::seconds(1), record("a1"));
    call_after(std::chrono::seconds(2), record("b2"));
    call_after(std::chrono::seconds(1), record("a2"));
    auto cancelled = call_after(std::chrono::seconds(1), record("never"));
    EXPECT_TRUE(cancelled.cancel());
    EXPECT_FALSE(cancelled.cancel());
    call_after(std::chrono::seconds(2), record("b3"));
    sleep_for(std::chrono::seconds(3));
  };
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    RandomStrategy r;
    Scheduler sched(RunLimits{});
    auto result = sched.run(r, seed, body);
    ASSERT_FALSE(result.failed()) << result.failure->message;
    EXPECT_THAT(fired, ::testing::ElementsAre("a1", "a2", "b1", "b2", "b3"));
    EXPECT_THAT(at, ::testing::ElementsAre(
                        std::chrono::seconds(1), std::chrono::seconds(1),
                        std::chrono::seconds(2), std::chrono::seconds(2),
                        std::chrono::seconds(2)));
  }
}

TEST(Scheduler, VirtualTimeJumpsOnlyWhenNothingCanRun) {
  std::vector<std::pair<std::string, Nanos>> log;
  auto body = [&] {
    log.clear();
    auto sleeper = spawn("sleeper", [&] {
      sleep_for(std::chrono::hours(1));
      log.emplace_back("woke", Clock::now().time_since_epoch());
    });
    auto busy = spawn("busy", [&] {
      for (int i = 0; i < 10; ++i) yield_now();
      // Still instant zero: the sleeper's deadline waits for idleness.
      log.emplace_back("busy done", Clock::now().time_since_epoch());
    });
    sleeper.join();
    busy.join();
  };
  RandomStrategy r;
  Scheduler sched(RunLimits{});
  auto result = sched.run(r, 3, body);
  ASSERT_FALSE(result.failed());
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], std::make_pair(std::string("busy done"), Nanos{0}));
  EXPECT_EQ(log[1].first, "woke");
  EXPECT_EQ(log[1].second, std::chrono::hours(1));
  EXPECT_EQ(result.end_time, std::chrono::hours(1));
}

TEST(Scheduler, DeadlockReportListsEveryBlockedStrandAndWhatItWaitsOn) {
  auto body = [] {
    Mutex a("a"), b("b");
    Latch both_hold(2, "both-hold");
    auto one = spawn("one", [&] {
      a.lock();
      both_hold.arrive_and_wait();
      b.lock();
    });
    auto two = spawn("two", [&] {
      b.lock();
      both_hold.arrive_and_wait();
      a.lock();
    });
    one.join();
    two.join();
  };
  RandomStrategy r;
  Scheduler sched(RunLimits{});
  auto result = sched.run(r, 1, body);
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, FailureKind::kDeadlock);
  const std::string& m = result.failure->message;
  EXPECT_THAT(m, HasSubstr("strand 'one' (#1) waits to lock mutex 'b' held "
                           "by strand 'two'"));
  EXPECT_THAT(m, HasSubstr("strand 'two' (#2) waits to lock mutex 'a' held "
                           "by strand 'one'"));
  EXPECT_THAT(m, HasSubstr("strand 'main' (#0) waits to join the end of "
                           "strand 'one'"));
  EXPECT_THAT(m, HasSubstr("scheduler_test.cc:"));
}

TEST(Scheduler, StepLimitReportsLivelock) {
  auto body = [] {
    Atomic<bool> stop{false};
    auto spinner = spawn("spinner", [&] {
      while (!stop.load()) yield_now();
    });
    spinner.join();  // nobody ever sets stop
  };
  RandomStrategy r;
  RunLimits limits;
  limits.max_steps = 500;
  Scheduler sched(limits);
  auto result = sched.run(r, 1, body);
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, FailureKind::kStepLimit);
  EXPECT_THAT(result.failure->message, HasSubstr("exceeded 500 steps"));
  EXPECT_THAT(result.failure->message, HasSubstr("livelock"));
}

TEST(Scheduler, VirtualTimeLimitReportsLivelockOfTimers) {
  auto body = [] {
    for (;;) sleep_for(std::chrono::hours(1));
  };
  RandomStrategy r;
  RunLimits limits;
  limits.max_time = std::chrono::hours(10);
  Scheduler sched(limits);
  auto result = sched.run(r, 1, body);
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, FailureKind::kTimeLimit);
  EXPECT_EQ(result.failure->time, std::chrono::hours(10));
}

TEST(Scheduler, StrandStillBlockedWhenTheBodyReturnsIsReportedAsLeaked) {
  auto body = [] {
    // Owned by the strand, freed when teardown unwinds it.
    auto m = std::make_shared<Mutex>("forgotten");
    auto cv = std::make_shared<CondVar>("never-notified");
    spawn("waiter", [m, cv] {
      std::unique_lock lock(*m);
      for (;;) cv->wait(lock);
    }).detach();
  };
  RandomStrategy r;
  RunLimits limits;
  limits.spurious_wakeups = false;
  Scheduler sched(limits);
  auto result = sched.run(r, 1, body);
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, FailureKind::kLeak);
  EXPECT_THAT(result.failure->message,
              HasSubstr("strand 'waiter' (#1) waits to be notified by "
                        "condvar 'never-notified'"));
}

TEST(Scheduler, UncaughtExceptionInAStrandFailsTheScheduleWithItsType) {
  auto body = [] {
    spawn("thrower", [] { throw std::out_of_range("index 7"); }).join();
  };
  RandomStrategy r;
  Scheduler sched(RunLimits{});
  auto result = sched.run(r, 1, body);
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, FailureKind::kException);
  EXPECT_EQ(result.failure->strand, "thrower");
  EXPECT_THAT(result.failure->message,
              HasSubstr("strand 'thrower' threw std::out_of_range: index 7"));
}

TEST(Scheduler, GoogleTestExpectationInsideAStrandFailsTheSchedule) {
  ExploreOptions o;
  o.iterations = 3;
  o.print = false;
  auto result = weft::testing::find_failure(o, [] {
    int value = 41;
    spawn("checker", [&] { EXPECT_EQ(value, 42) << "the answer"; }).join();
  });
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.schedules, 1u);
  EXPECT_EQ(result.failure->strand, "checker");
  EXPECT_THAT(result.failure->message, HasSubstr("the answer"));
}

TEST(Scheduler, TeardownUnwindsBlockedStrandsAndRunsTheirDestructors) {
  static int destroyed = 0;
  struct Guard {
    ~Guard() { ++destroyed; }
  };
  destroyed = 0;
  auto body = [] {
    Mutex a("a");
    a.lock();
    spawn("stuck", [&] {
      Guard g;
      std::lock_guard lock(a);  // blocks forever: main holds `a`
    }).detach();
    Guard g;
    Latch never(1, "never");
    never.wait();  // main blocks too: a deadlock
  };
  RandomStrategy r;
  Scheduler sched(RunLimits{});
  auto result = sched.run(r, 1, body);
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, FailureKind::kDeadlock);
  EXPECT_EQ(destroyed, 2);
}

TEST(Scheduler, ReplayOfARecordedScheduleGivesTheSameDigest) {
  RandomStrategy r;
  Scheduler sched(RunLimits{});
  auto original = sched.run(r, 99, busy_body);
  ASSERT_FALSE(original.failed());
  ReplayStrategy replay(original.schedule);
  auto again = sched.run(replay, 0, busy_body);
  ASSERT_FALSE(again.failed()) << again.failure->message;
  EXPECT_EQ(digest(again.schedule), digest(original.schedule));
}

TEST(Scheduler, ReplayNamesTheFirstDivergenceByStepStrandAndKind) {
  auto body_with = [](bool extra_lock) {
    return [extra_lock] {
      Mutex m("m");
      auto writer = spawn("writer", [&] { std::lock_guard lock(m); });
      auto reader = spawn("reader", [&] {
        if (extra_lock) yield_now();
        std::lock_guard lock(m);
      });
      writer.join();
      reader.join();
    };
  };
  RandomStrategy r;
  Scheduler sched(RunLimits{});
  auto original = sched.run(r, 5, body_with(false));
  ASSERT_FALSE(original.failed());
  ReplayStrategy replay(original.schedule);
  auto diverged = sched.run(replay, 0, body_with(true));
  ASSERT_TRUE(diverged.failed());
  EXPECT_EQ(diverged.failure->kind, FailureKind::kReplayDivergence);
  EXPECT_THAT(diverged.failure->message, HasSubstr("expected a "));
  EXPECT_THAT(diverged.failure->message, HasSubstr("by strand '"));
  EXPECT_THAT(diverged.failure->message, HasSubstr("the program offered a "));
  EXPECT_THAT(diverged.failure->message, HasSubstr(" at step "));
}

TEST(Scheduler, YieldingSpinLoopLetsTheOtherStrandRun) {
  auto body = [] {
    Atomic<bool> ready{false};
    auto spinner = spawn("spinner", [&] {
      while (!ready.load()) yield_now();
    });
    auto setter = spawn("setter", [&] { ready.store(true); });
    spinner.join();
    setter.join();
  };
  // Under every strategy and many seeds the spin ends quickly.
  RunLimits limits;
  limits.max_steps = 200;
  Scheduler sched(limits);
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    RandomStrategy r;
    PctStrategy p(3, 20);
    auto a = sched.run(r, seed, body);
    ASSERT_FALSE(a.failed()) << a.failure->message;
    auto b = sched.run(p, seed, body);
    ASSERT_FALSE(b.failed()) << b.failure->message;
  }
}

#if !defined(WEFT_ASAN) && !defined(WEFT_TSAN)
int recurse(int n) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(n);
  return n == 0 ? pad[0] : recurse(n + 1) + pad[0];
}

TEST(SchedulerDeathTest, StackOverflowIsReportedWithTheStrandName) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto body = [] { spawn("deep", [] { recurse(1); }).join(); };
  EXPECT_DEATH(
      {
        RandomStrategy r;
        Scheduler sched(RunLimits{});
        sched.run(r, 1, body);
      },
      "strand 'deep' overflowed its stack at step");
}
#endif

}  // namespace
}  // namespace weft::sim

namespace weft::sim {
namespace {

// A strand switched out while it unwinds (a destructor that waits) must
// not make other strands see its exception in flight: the exception state
// of the C++ runtime belongs to each strand's stack.
TEST(Scheduler, AStrandUnwindingInADestructorDoesNotLeakItsExceptionState) {
  Scheduler sched(RunLimits{});
  RandomStrategy random;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    int seen_by_other = -1;
    int seen_in_catch = -1;
    const auto run = sched.run(random, seed, [&] {
      Atomic<int> phase{0};
      auto other = spawn("other", [&] {
        while (phase.load() == 0) yield_now();
        seen_by_other = std::uncaught_exceptions();
      });
      try {
        struct WaitsInDestructor {
          Atomic<int>& phase;
          ~WaitsInDestructor() {
            phase.store(1);
            for (int i = 0; i < 5; ++i)
              yield_now();  // switches while unwinding
          }
        } guard{phase};
        throw std::runtime_error("unwinding");
      } catch (const std::runtime_error&) {
        seen_in_catch = std::uncaught_exceptions();
      }
      other.join();
    });
    ASSERT_FALSE(run.failed()) << run.failure->message;
    EXPECT_EQ(seen_by_other, 0) << "seed " << seed;
    EXPECT_EQ(seen_in_catch, 0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace weft::sim
