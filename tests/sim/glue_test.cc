// The test-framework glue (sim/harness/gtest.h and explore's trace files):
// a failure's report shows once; WEFT_REPLAY replays only the test its
// trace names; two explorations never write one trace file; a replay
// command that the exploration would ignore is not printed as one; a
// RapidCheck counterexample gets explore's report and trace.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "sim/harness/gtest.h"
#include "sim/harness/rapidcheck.h"
#include "sim/weft.h"

namespace {

namespace fs = std::filesystem;

void lost_update() {
  weft::Atomic<int> n{0};
  auto a = weft::spawn("a", [&] { n.store(n.load() + 1); });
  auto b = weft::spawn("b", [&] { n.store(n.load() + 1); });
  a.join();
  b.join();
  WEFT_ASSERT_MSG(n.load() == 2, "glue: an update was lost");
}

weft::ExploreOptions options(const std::string& name, const fs::path& dir) {
  weft::ExploreOptions o;
  o.strategy = "random";
  o.iterations = 200;
  o.name = name;
  o.trace_dir = dir.string();
  return o;
}

// The directories lie under one per test process, so that two runs of the
// binary at once (two builds' suites on one host) do not share them. It is
// removed when the process that made it exits: not by a schedule's child
// or any other fork that calls exit().
const fs::path& glue_root() {
  static const pid_t owner = getpid();
  static const fs::path root =
      fs::temp_directory_path() / ("weft-glue-" + std::to_string(owner));
  static const bool removed_at_exit = [] {
    std::atexit([] {
      if (getpid() != owner) return;
      std::error_code ignored;
      fs::remove_all(root, ignored);
    });
    return true;
  }();
  (void)removed_at_exit;
  return root;
}

fs::path fresh_dir(const std::string& leaf) {
  const fs::path dir = glue_root() / leaf;
  fs::remove_all(dir);
  return dir;
}

void explore_the_lost_update_failing_the_test() {
  weft::testing::explore(options("", fresh_dir("once")), lost_update);
}

TEST(GtestGlue, AFailedExplorationShowsItsReportOnceAsTheTestsFailure) {
  ::testing::internal::CaptureStderr();
  EXPECT_NONFATAL_FAILURE(explore_the_lost_update_failing_the_test(),
                          "glue: an update was lost");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("glue: an update was lost"), std::string::npos)
      << "explore printed the report too:\n"
      << err;
}

TEST(GtestGlue, FindFailurePrintsTheReportSinceNoTestFailureCarriesIt) {
  ::testing::internal::CaptureStderr();
  const auto r =
      weft::testing::find_failure(options("", fresh_dir("find")), lost_update);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r.failed());
  EXPECT_NE(err.find("glue: an update was lost"), std::string::npos);
}

TEST(WeftReplay, IsAppliedOnlyToTheTestItsTraceNames) {
  const fs::path dir = fresh_dir("replay");
  weft::ExploreOptions o = options("Glue.Recorded", dir);
  o.print = false;
  const auto found = weft::testing::find_failure(o, lost_update);
  ASSERT_TRUE(found.failed());
  ASSERT_FALSE(found.trace_path.empty());

  setenv("WEFT_REPLAY", found.trace_path.c_str(), 1);
  // Another test of the binary explores as usual: a passing body passes
  // its 200 schedules instead of diverging from a foreign trace.
  weft::ExploreOptions other = options("Glue.Other", fresh_dir("other"));
  other.print = false;
  const auto passed = weft::testing::find_failure(other, [] {
    auto a = weft::spawn("x", [] { weft::yield_now(); });
    a.join();
  });
  // The named test replays its one schedule.
  const auto replayed = weft::testing::find_failure(o, lost_update);
  unsetenv("WEFT_REPLAY");
  EXPECT_FALSE(passed.failed());
  EXPECT_EQ(passed.schedules, 200u);
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.schedules, 1u);
  EXPECT_EQ(replayed.strategy, "replay");
  EXPECT_EQ(replayed.digest, found.digest);
}

TEST(TraceNames, TwoExplorationsOfOneNameWriteTwoFiles) {
  const fs::path dir = fresh_dir("names");
  weft::ExploreOptions o = options("Glue.Twice", dir);
  o.print = false;
  const auto first = weft::testing::find_failure(o, lost_update);
  const auto second = weft::testing::find_failure(o, lost_update);
  ASSERT_TRUE(first.failed() && second.failed());
  EXPECT_NE(first.trace_path, second.trace_path);
  EXPECT_TRUE(fs::exists(first.trace_path));
  EXPECT_TRUE(fs::exists(second.trace_path));
}

TEST(TraceNames, OutsideGoogleTestTheyAreNamedAfterTheProgram) {
  weft::ExploreOptions o = options("", fresh_dir("program"));
  o.print = false;
  const auto r = weft::explore(o, lost_update);
  ASSERT_TRUE(r.failed());
  const std::string file = fs::path(r.trace_path).filename().string();
  EXPECT_EQ(file.rfind("sim_test", 0), 0u) << file;
}

TEST(ReplayCommand, AnExplorationThatIgnoresTheEnvironmentPrintsNoWeftReplay) {
  weft::ExploreOptions o = options("Glue.NoEnv", fresh_dir("noenv"));
  o.print = false;
  o.use_environment = false;
  const auto r = weft::testing::find_failure(o, lost_update);
  ASSERT_TRUE(r.failed());
  ASSERT_FALSE(r.trace_path.empty());
  EXPECT_EQ(r.report.find("WEFT_REPLAY="), std::string::npos) << r.report;
  EXPECT_EQ(r.report.find("WEFT_SEED="), std::string::npos) << r.report;
  const std::string best =
      r.shrunk_trace_path.empty() ? r.trace_path : r.shrunk_trace_path;
  EXPECT_NE(r.report.find("ExploreOptions::replay_file = \"" + best + "\""),
            std::string::npos)
      << r.report;
}

TEST(RapidCheckGlue, ACounterexampleGetsTheReportATraceAndItsTimeline) {
  weft::ExploreOptions o = options("Glue.RapidCheck", fresh_dir("rc"));
  ::testing::internal::CaptureStderr();
  const auto r =
      weft::testing::check_schedules("no update is lost", lost_update, o);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r.failed()) << "RapidCheck found no lost update";
  EXPECT_NE(r.report.find("assertion failed after 1 schedule (strategy "
                          "rapidcheck"),
            std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("glue: an update was lost"), std::string::npos);
  ASSERT_TRUE(fs::exists(r.trace_path));
  const std::string best =
      r.shrunk_trace_path.empty() ? r.trace_path : r.shrunk_trace_path;
  EXPECT_NE(r.report.find("WEFT_REPLAY=" + best + " "), std::string::npos)
      << r.report;
  EXPECT_NE(r.report.find("no seed selects a rapidcheck schedule"),
            std::string::npos)
      << r.report;
  EXPECT_NE(err.find(r.report), std::string::npos);
  EXPECT_NE(err.find("look at it on a timeline:\n  weft trace export "
                     "--format html " +
                     r.trace_path),
            std::string::npos)
      << err;
  // The trace replays the counterexample.
  weft::ExploreOptions again = options("Glue.RapidCheck", "");
  again.replay_file = r.trace_path;
  again.print = false;
  const auto replayed = weft::explore(again, lost_update);
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.digest, r.digest);
}

}  // namespace

namespace {

// A strand that spins on an atomic until the step limit: the report says
// which atomic it was about to read, by name when it has one.
weft::ExploreResult spin_on(weft::Atomic<bool>& flag) {
  weft::ExploreOptions o = options("", "");
  o.strategy = "pct";
  o.print = false;
  o.shrink = false;
  o.contain = weft::ExploreOptions::Contain::kOff;
  o.limits.max_steps = 2000;
  return weft::explore(o, [&] {
    flag.store(false);
    auto spinner = weft::spawn("spinner", [&] {
      while (!flag.load()) {
      }
    });
    auto setter = weft::spawn("setter", [&] { flag.store(true); });
    spinner.join();
    setter.join();
  });
}

TEST(AtomicNames, AStepLimitReportNamesTheAtomicTheSpinnerWasAboutToRead) {
  weft::Atomic<bool> ready{false, "ready"};
  EXPECT_EQ(ready.name(), "ready");
  const auto r = spin_on(ready);
  ASSERT_TRUE(r.failed());
  ASSERT_EQ(r.failure->kind, weft::sim::FailureKind::kStepLimit);
  EXPECT_NE(r.failure->message.find(
                "Strand 'spinner' was about to read atomic 'ready'."),
            std::string::npos)
      << r.failure->message;
}

TEST(AtomicNames, AnUnnamedAtomicIsReportedWithHowToNameIt) {
  weft::Atomic<bool> flag{false};
  EXPECT_EQ(flag.name(), "");
  const auto r = spin_on(flag);
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.failure->message.find("an unnamed weft::Atomic (name it"),
            std::string::npos)
      << r.failure->message;
}

}  // namespace
