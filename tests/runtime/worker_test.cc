#include "runtime/worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "sim/harness/gtest.h"
#include "sim/weft.h"
#include "tests/runtime/both_worlds.h"
#include "tests/runtime/failures.h"

namespace weft::runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test_support::failure_of;
using test_support::on_threads_and_simulated;
using test_support::reported_in_both_worlds;
using test_support::schedules;

// A deadlock found while a destructor waits is reported like any other:
// explore() returns it with its report and replay command, and the process
// goes on (it used to terminate, StrandCancelled thrown out of the
// destructor).
void expect_reported_deadlock(const sim::ExploreResult& r,
                              const std::string& blocked) {
  ASSERT_TRUE(r.failed()) << "the deadlock was not found";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message, HasSubstr("strand '" + blocked + "'"));
  EXPECT_THAT(r.failure->message, HasSubstr("latch 'never'"));
  EXPECT_THAT(r.report, HasSubstr("deadlock"));
  // The exploration ignores WEFT_* variables: the command names the seed.
  EXPECT_THAT(r.replay_command, HasSubstr("seed = " + std::to_string(r.seed)));
}

TEST(ThreadWorker, RunsWorkInSubmissionOrderOnItsOwnStrand) {
  on_threads_and_simulated([] {
    std::vector<int> order;
    sim::Mutex m("order");
    {
      ThreadWorker w("w");
      for (int i = 0; i < 5; ++i)
        w.submit([&, i] {
          std::lock_guard lk(m);
          order.push_back(i);
        });
      w.quit();
      w.join();
    }
    WEFT_ASSERT(order == (std::vector<int>{0, 1, 2, 3, 4}));
  });
}

TEST(ThreadWorker, WorkAfterQuitAndASecondQuitThrowAlreadyQuit) {
  on_threads_and_simulated([] {
    ThreadWorker w;
    w.quit();
    bool submit_threw = false, quit_threw = false;
    try {
      w.submit([] {});
    } catch (const AlreadyQuit&) {
      submit_threw = true;
    }
    try {
      w.quit();
    } catch (const AlreadyQuit&) {
      quit_threw = true;
    }
    WEFT_ASSERT(submit_threw && quit_threw);
  });
}

TEST(ThreadWorker, DeadlockInsideItsDestructorIsReportedNotAborted) {
  const auto r = failure_of([] {
    sim::Latch never(1, "never");
    ThreadWorker w("stuck");
    w.submit([&] { never.wait(); });
  });  // ~ThreadWorker joins a strand that never finishes
  expect_reported_deadlock(r, "stuck");
}

TEST(ThreadWorker, AnyThrownValueIsReportedAndTheWorkerGoesOn) {
  const auto r = reported_in_both_worlds([] {
    sim::Atomic<bool> after{false};
    {
      ThreadWorker w("w");
      w.submit([] { throw 42; });
      w.submit([&] { after.store(true); });
    }
    WEFT_ASSERT(after.load());
  });
  EXPECT_THAT(r.printed, HasSubstr("work on worker 'w' threw int"));
  ASSERT_TRUE(r.simulated.failed());
  EXPECT_EQ(r.simulated.failure->kind, sim::FailureKind::kException);
  EXPECT_THAT(r.simulated.failure->message,
              HasSubstr("work on worker 'w' threw int"));
}

TEST(LockWorker, RunsOnTheCallerAndQueuesReentrantWorkAfterTheCurrentItem) {
  on_threads_and_simulated([] {
    sim::Mutex lock("exclusive");
    LockWorker w(lock);
    std::vector<int> order;
    w.submit([&] {
      order.push_back(1);
      w.submit([&] { order.push_back(3); });  // queued, not nested
      order.push_back(2);
    });
    WEFT_ASSERT(order == (std::vector<int>{1, 2, 3}));
    w.quit();
    bool threw = false;
    try {
      w.submit([] {});
    } catch (const AlreadyQuit&) {
      threw = true;
    }
    WEFT_ASSERT(threw);
  });
}

TEST(LockWorker, WorkFromTwoStrandsNeverOverlaps) {
  on_threads_and_simulated([] {
    sim::Mutex lock("exclusive");
    LockWorker w(lock);
    sim::Atomic<int> inside{0};
    sim::Atomic<int> overlaps{0};
    auto work = [&] {
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      sim::yield_now();
      inside.fetch_sub(1);
    };
    auto a = sim::spawn("a", [&] { w.submit(work); });
    auto b = sim::spawn("b", [&] { w.submit(work); });
    a.join();
    b.join();
    WEFT_ASSERT(overlaps.load() == 0);
  });
}

TEST(LockWorker, AnyThrownValueReachesTheSubmitterAndFreesTheLock) {
  on_threads_and_simulated([] {
    sim::Mutex lock("exclusive");
    LockWorker w(lock);
    int caught = 0;
    try {
      w.submit([] { throw 42; });
    } catch (int v) {
      caught = v;
    }
    WEFT_ASSERT(caught == 42);
    bool ran = false;
    w.submit([&] { ran = true; });  // the lock was released
    WEFT_ASSERT(ran);
  });
}

TEST(Team, GrowsToItsMaximumThenQueuesTheBacklog) {
  weft::testing::explore(schedules(500), [] {
    auto team = pool(3, "pool");
    sim::Latch release(1, "release");
    sim::Latch started(3, "started");
    for (int i = 0; i < 5; ++i)
      team->submit([&] {
        started.count_down();
        release.wait();
      });
    started.wait();
    const TeamStatistics s = team->statistics();
    WEFT_ASSERT(s.busy == 3);
    WEFT_ASSERT(s.idle == 0);
    WEFT_ASSERT(s.backlog == 2);
    release.count_down();
    team->quit();
    team->join();
    WEFT_ASSERT(team->statistics().busy == 0);
  });
}

TEST(Team, ShrinksBackWhenItsWorkersStayIdle) {
  weft::testing::explore(schedules(300), [] {
    Team::Options o;
    o.max_workers = 4;
    o.idle_timeout = std::chrono::seconds(1);
    Team team(o);
    sim::Latch done(4, "done");
    for (int i = 0; i < 4; ++i) team.submit([&] { done.count_down(); });
    done.wait();
    // A virtual minute later every worker has timed out and left.
    sim::sleep_for(std::chrono::seconds(60));
    const TeamStatistics s = team.statistics();
    WEFT_ASSERT(s.busy == 0 && s.idle == 0 && s.backlog == 0);
    team.submit([] {});  // and it grows again
    team.quit();
  });
}

TEST(Team, RunsEveryItemOnRealThreads) {
  sim::Atomic<int> ran{0};
  {
    auto team = pool(4);
    for (int i = 0; i < 1000; ++i) team->submit([&] { ran.fetch_add(1); });
    team->quit();
    team->join();
  }
  EXPECT_EQ(ran.load(), 1000);
  auto team = pool(2);
  team->quit();
  EXPECT_THROW(team->submit([] {}), AlreadyQuit);
  EXPECT_THROW(team->quit(), AlreadyQuit);
}

TEST(Team, WorkThatThrowsFailsTheScheduleWithTheException) {
  const auto r = weft::testing::find_failure(schedules(10), [] {
    auto team = pool(2);
    team->submit([] { throw std::runtime_error("disk full"); });
    team->quit();
    team->join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kException);
  EXPECT_THAT(r.failure->message, ::testing::HasSubstr("disk full"));
}

TEST(Team, DeadlockInsideItsDestructorIsReportedNotAborted) {
  const auto r = failure_of([] {
    sim::Latch never(1, "never");
    auto team = pool(2, "stuck");
    team->submit([&] { never.wait(); });
  });  // ~Team waits for a worker that never finishes
  expect_reported_deadlock(r, "stuck-1");
}

TEST(Team, AnyThrownValueIsReportedAndThePoolGoesOn) {
  const auto r = reported_in_both_worlds([] {
    sim::Atomic<int> after{0};
    {
      auto team = pool(1, "p");
      team->submit([] { throw 42; });
      team->submit([&] { after.fetch_add(1); });
      team->submit([&] { after.fetch_add(1); });
    }
    WEFT_ASSERT(after.load() == 2);
  });
  EXPECT_THAT(r.printed, HasSubstr("work on pool 'p' worker 1 threw int"));
  ASSERT_TRUE(r.simulated.failed());
  EXPECT_EQ(r.simulated.failure->kind, sim::FailureKind::kException);
  EXPECT_THAT(r.simulated.failure->message,
              HasSubstr("work on pool 'p' worker 1 threw int"));
}

// Waits (polling, up to a few real or virtual seconds) until `team` has
// exactly `n` workers, all idle; asserts it never has fewer than `min`.
void settle_at(Team& team, std::size_t n, std::size_t min) {
  for (int i = 0; i < 300; ++i) {
    const TeamStatistics s = team.statistics();
    WEFT_ASSERT(s.busy + s.idle >= min);
    if (s.busy == 0 && s.idle == n) return;
    sim::sleep_for(10ms);
  }
  WEFT_ASSERT(team.statistics().idle == n);
}

TEST(Team, KeepsItsMinimumStartedAndNeverShrinksBelowIt) {
  on_threads_and_simulated([] {
    Team::Options o;
    o.min_workers = 2;
    o.max_workers = 4;
    o.idle_timeout = 10ms;
    Team team(o);
    // Started eagerly: two idle workers before any work.
    WEFT_ASSERT(team.statistics().idle == 2);
    sim::Latch release(1, "release");
    sim::Latch started(4, "started");
    for (int i = 0; i < 4; ++i)
      team.submit([&] {
        started.count_down();
        release.wait();
      });
    started.wait();
    WEFT_ASSERT(team.statistics().busy == 4);
    release.count_down();
    settle_at(team, 2, 2);  // the two extra workers time out and leave
    sim::sleep_for(100ms);  // and the minimum stays
    WEFT_ASSERT(team.statistics().idle == 2);
    team.set_max_workers(1);  // never below the minimum
    WEFT_ASSERT(team.max_workers() == 2);
    team.quit();
    team.join();
    WEFT_ASSERT(team.statistics().idle == 0);
  });
}

TEST(Team, AMinimumAboveTheMaximumIsRefused) {
  Team::Options o;
  o.min_workers = 3;
  o.max_workers = 2;
  EXPECT_THROW(Team team(o), std::invalid_argument);
}

TEST(Team, SameSeedSameSchedule) {
  auto body = [] {
    auto team = pool(3);
    sim::Atomic<int> n{0};
    for (int i = 0; i < 6; ++i) team->submit([&] { n.fetch_add(1); });
    team->quit();
    team->join();
    WEFT_ASSERT(n.load() == 6);
  };
  test_support::expect_same_schedule_per_seed(body, 200);
}

}  // namespace
}  // namespace weft::runtime
