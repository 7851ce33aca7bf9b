// weft::intercept on a program that knows nothing of weft (bank.cc: only
// std::thread, std::mutex and std::condition_variable): explore() finds its
// lost deposit and replays it from the trace file, the fixed program passes
// every schedule, and both still run on real threads outside a simulation.
// A strand stuck in a call weft does not control is reported by the
// watchdog, by name.
#include "sim/intercept/intercept.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>

#include "sim/check.h"
#include "sim/harness/explore.h"
#include "tests/intercept/bank.h"

namespace weft::intercept {
namespace {

using sim::ExploreOptions;
using ::testing::HasSubstr;

ExploreOptions options(const std::string& name) {
  ExploreOptions o;
  o.use_environment = false;
  o.iterations = 500;
  o.print = false;
  o.name = name;
  o.trace_dir = ::testing::TempDir() + "weft-intercept";
#if defined(WEFT_TSAN)
  o.contain = ExploreOptions::Contain::kOff;
#endif
  return o;
}

TEST(Intercept, ExploreFindsTheLostDepositOfAStdThreadProgram) {
  const sim::ExploreResult r =
      sim::explore(options("Intercept.LostDeposit"),
                   [] { WEFT_ASSERT(bank::run(/*fixed=*/false) == 2); });
  ASSERT_TRUE(r.failed()) << r.summary;
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_THAT(r.report, HasSubstr("WEFT_ASSERT(bank::run("));
  ASSERT_FALSE(r.trace_path.empty());

  // The trace file replays the same failing schedule.
  ExploreOptions replay = options("Intercept.LostDepositReplay");
  replay.replay_file = r.trace_path;
  const sim::ExploreResult again = sim::explore(
      replay, [] { WEFT_ASSERT(bank::run(/*fixed=*/false) == 2); });
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_EQ(again.digest, r.digest);
}

TEST(Intercept, FixedStdThreadProgramPassesFiveHundredPortfolioSchedules) {
  const sim::ExploreResult r = sim::explore(
      options("Intercept.Fixed"), [] { WEFT_ASSERT(bank::run(true) == 2); });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(r.schedules, 500u);
}

TEST(Intercept, FixedStdThreadProgramPassesEveryScheduleOfDfsWithinTwo) {
  ExploreOptions o = options("Intercept.FixedDfs");
  o.strategy = "dfs";
  o.preemption_bound = 2;
  o.iterations = 100000;
  o.limits.spurious_wakeups = false;
  const sim::ExploreResult r =
      sim::explore(o, [] { WEFT_ASSERT(bank::run(true) == 2); });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
}

TEST(Intercept, TheSameProgramRunsOnRealThreadsOutsideASimulation) {
  EXPECT_EQ(intercept::strand_scheduler(), nullptr);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(bank::run(true), 2);
    const int b = bank::run(false);  // the race is rare on real threads
    EXPECT_TRUE(b == 1 || b == 2) << b;
  }
}

#if !defined(WEFT_TSAN)
TEST(Intercept, WatchdogNamesAStrandBlockedInARealRead) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ExploreOptions o = options("Intercept.Watchdog");
  o.iterations = 1;
  o.watchdog_s = 1;
  const sim::ExploreResult r = sim::explore(o, [&fds] {
    std::mutex m;
    std::thread reader([&fds, &m] {
      { std::lock_guard<std::mutex> g(m); }
      char c;
      (void)!read(fds[0], &c, 1);  // nothing is ever written
    });
    reader.join();
  });
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kHang);
  EXPECT_EQ(r.failure->strand, "thread-1");
  EXPECT_THAT(r.report, HasSubstr("'thread-1'"));
  EXPECT_THAT(r.report, HasSubstr("WEFT_WATCHDOG"));
  EXPECT_THAT(r.report, HasSubstr("its last call weft saw was "
                                  "pthread_mutex_unlock"));
}
#endif

}  // namespace
}  // namespace weft::intercept
