#include "sim/memory_worker.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sim/harness/gtest.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

TEST(MemoryWorker, SubmitOnlyQueuesAndPerformRunsOneItemInOrder) {
  MemoryWorker w;
  std::string log;
  w.submit([&] { log += "a"; });
  w.submit([&] { log += "b"; });
  EXPECT_EQ(log, "");
  EXPECT_EQ(w.pending(), 2u);
  EXPECT_TRUE(w.perform());
  EXPECT_EQ(log, "a");
  EXPECT_TRUE(w.perform());
  EXPECT_EQ(log, "ab");
  EXPECT_FALSE(w.perform());
}

TEST(MemoryWorker, SubmitAfterQuitThrowsAlreadyQuit) {
  MemoryWorker w;
  w.quit();
  EXPECT_THROW(w.submit([] {}), AlreadyQuit);
}

TEST(MemoryWorker, SecondQuitThrowsAlreadyQuit) {
  MemoryWorker w;
  w.quit();
  EXPECT_THROW(w.quit(), AlreadyQuit);
}

TEST(MemoryWorker, WorkQueuedBeforeQuitCanStillBePerformed) {
  MemoryWorker w;
  int ran = 0;
  w.submit([&] { ++ran; });
  w.quit();
  EXPECT_TRUE(w.perform());
  EXPECT_EQ(ran, 1);
}

TEST(MemoryWorker, WhichWorkerPerformsNextIsASchedulerChoice) {
  std::set<std::string> orders;
  std::string order;
  auto body = [&] {
    order.clear();
    MemoryWorker left, right;
    left.submit([&] { order += "L"; });
    right.submit([&] { order += "R"; });
    MemoryWorker* both[] = {&left, &right};
    while (perform_next(both)) {
    }
  };
  Scheduler sched(RunLimits{});
  for (std::uint64_t seed = 0; seed < 32; ++seed) {
    RandomStrategy r;
    const auto result = sched.run(r, seed, body);
    ASSERT_FALSE(result.failed());
    orders.insert(order);
    // The choice is recorded, so the schedule tells which ran first.
    ASSERT_FALSE(result.schedule.empty());
    EXPECT_EQ(result.schedule.front().kind, ChoiceKind::kWork);
  }
  EXPECT_EQ(orders, (std::set<std::string>{"LR", "RL"}));
}

TEST(MemoryWorker, OutsideASimulationTheFirstWorkerWithWorkPerforms) {
  MemoryWorker left, right;
  std::string order;
  left.submit([&] { order += "L"; });
  right.submit([&] { order += "R"; });
  MemoryWorker* both[] = {&left, &right};
  while (perform_next(both)) {
  }
  EXPECT_EQ(order, "LR");
}

}  // namespace
}  // namespace weft::sim
