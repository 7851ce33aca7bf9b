#include "runtime/worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "sim/gtest.h"
#include "sim/weft.h"
#include "tests/runtime/both_worlds.h"

namespace weft::runtime {
namespace {

using ::testing::ElementsAre;

using test_support::on_threads_and_simulated;
using test_support::schedules;

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

TEST(Team, GrowsToItsMaximumThenQueuesTheBacklog) {
  weft::testing::explore(
      [] {
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
      },
      schedules(500));
}

TEST(Team, ShrinksBackWhenItsWorkersStayIdle) {
  weft::testing::explore(
      [] {
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
      },
      schedules(300));
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
  const auto r = weft::testing::find_failure(
      [] {
        auto team = pool(2);
        team->submit([] { throw std::runtime_error("disk full"); });
        team->quit();
        team->join();
      },
      schedules(10));
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kException);
  EXPECT_THAT(r.failure->message, ::testing::HasSubstr("disk full"));
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
