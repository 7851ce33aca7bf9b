// WEFT_JOBS: one exploration split across local processes. The jobs'
// counts add up to a single process's, a failure is found and reported as
// a single process reports it (same schedule, seed and digest: the one an
// unsharded run meets first), crash containment still contains a crash,
// and a bad value is refused naming the variable.
#include "sim/harness/jobs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "sim/dfs_strategy.h"
#include "sim/harness/explore.h"
#include "sim/weft.h"
#include "tests/support/sctbench_programs.h"

namespace weft::sim {
namespace {

using ::testing::HasSubstr;

// Under ThreadSanitizer an exploration runs in one process whatever
// WEFT_JOBS says (no fork() after threads): only the parsing is tested.
#if !defined(WEFT_TSAN)

test::SctProgram program(const std::string& name) {
  auto p = test::find_sct_program(name);
  EXPECT_TRUE(p.has_value()) << name;
  return *p;
}

ExploreOptions options(const std::string& strategy, std::uint64_t jobs) {
  ExploreOptions o;
  o.strategy = strategy;
  o.preemption_bound = 2;
  o.iterations = 1'000'000;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.jobs = jobs;
  return o;
}

TEST(WeftJobs, DfsCountsWithOneTwoOrThreeJobsEqualOneProcesss) {
  for (const char* name :
       {"reorder_3", "twostage_3", "deadlock01", "lazy01", "account"}) {
    const auto body = program(name).fixed;
    const auto whole = explore(options("dfs", 1), body);
    ASSERT_TRUE(whole.exhausted) << name;
    for (std::uint64_t jobs : {2, 3}) {
      const auto r = explore(options("dfs", jobs), body);
      EXPECT_FALSE(r.failed()) << r.report;
      EXPECT_TRUE(r.exhausted) << name << ", " << jobs << " jobs";
      EXPECT_EQ(r.jobs, jobs);
      EXPECT_EQ(r.schedules, whole.schedules) << name << ", " << jobs;
      EXPECT_THAT(r.summary, HasSubstr("in " + std::to_string(jobs) + " jobs"));
    }
  }
}

// dpor expands its first contested choice point fully whether split or
// not, so the tree does not depend on the number of jobs.
TEST(WeftJobs, DporCountsWithOneTwoThreeOrFiveJobsEqualOneProcesss) {
  for (const char* name : {"reorder_3", "twostage_3", "deadlock01", "lazy01"}) {
    const auto body = program(name).fixed;
    const auto whole = explore(options("dpor", 1), body);
    ASSERT_TRUE(whole.exhausted) << name;
    for (std::uint64_t jobs : {2, 3, 5}) {
      const auto r = explore(options("dpor", jobs), body);
      EXPECT_FALSE(r.failed()) << r.report;
      EXPECT_TRUE(r.exhausted) << name << ", " << jobs << " jobs";
      EXPECT_EQ(r.schedules, whole.schedules) << name << ", " << jobs;
    }
  }
}

TEST(WeftJobs, SamplingStrategiesSplitTheIterationsAcrossTheJobs) {
  const auto body = program("reorder_3").fixed;
  for (const char* strategy : {"random", "portfolio", "pct"})
    for (std::uint64_t jobs : {1, 2, 3}) {
      ExploreOptions o = options(strategy, jobs);
      o.iterations = 301;
      const auto r = explore(o, body);
      EXPECT_EQ(r.schedules, 301u) << strategy << ", " << jobs << " jobs";
      EXPECT_EQ(r.jobs, jobs);
    }
}

// The failure an unsharded run meets first: dfs by its order of the tree,
// a sampling strategy by seed.
TEST(WeftJobs, AFailureFoundWithJobsIsTheOneOneProcessReports) {
  for (const char* name : {"reorder_3", "deadlock01", "twostage_3"})
    for (const char* strategy : {"dfs", "random", "pos"}) {
      const auto body = program(name).bad;
      ExploreOptions one = options(strategy, 1);
      one.iterations = 100'000;
      const auto expected = explore(one, body);
      ASSERT_TRUE(expected.failed()) << name << " " << strategy;
      for (std::uint64_t jobs : {2, 3}) {
        ExploreOptions o = options(strategy, jobs);
        o.iterations = 100'000;
        const auto r = explore(o, body);
        ASSERT_TRUE(r.failed()) << name << " " << strategy << " " << jobs;
        EXPECT_EQ(r.failure->kind, expected.failure->kind);
        // A dfs schedule is selected by its place in the tree, not its
        // seed (its trace file replays it): the seed is the job's count.
        if (std::string(strategy) != "dfs") {
          EXPECT_EQ(r.seed, expected.seed) << name << " " << strategy;
        }
        EXPECT_EQ(r.digest, expected.digest) << name << " " << strategy;
        EXPECT_EQ(r.schedule, expected.schedule);
        if (std::string(strategy) != "dfs") {
          EXPECT_EQ(r.replay_command, expected.replay_command);
        }
        EXPECT_THAT(r.report, HasSubstr("schedules in " + std::to_string(jobs) +
                                        " jobs"));
      }
    }
}

TEST(WeftJobs, DporFindsTheBugWithJobs) {
  for (const char* name : {"reorder_3", "deadlock01", "account"}) {
    const auto p = program(name);
    const auto r = explore(options("dpor", 3), p.bad);
    ASSERT_TRUE(r.failed()) << name;
    EXPECT_EQ(r.failure->kind, p.bug) << name;
  }
}

// Keys along an unsharded walk only grow: the order the jobs' failures are
// compared in is the order one process meets them.
TEST(WeftJobs, DfsOrderKeysGrowAlongTheUnshardedWalk) {
  for (const char* name : {"reorder_3", "deadlock01", "work_steal_queue"}) {
    const auto body = program(name).fixed;
    DfsStrategy dfs(2);
    Scheduler sched(RunLimits{});
    std::vector<std::uint32_t> last;
    for (std::uint64_t i = 0; !dfs.finished(); ++i) {
      const auto r = sched.run(dfs, i, body);
      const auto key = dfs.order_key(r.schedule);
      if (i > 0) {
        ASSERT_LT(last, key) << name << ", schedule " << i;
      }
      last = key;
    }
  }
}

#if !defined(WEFT_TSAN)  // no fork() after threads under TSan: no containment
TEST(WeftJobs, ACrashInAJobIsContainedAndReportedAsInOneProcess) {
  const auto body = [] {
    Atomic<int> x{0};
    auto writer = spawn("writer", [&] {
      x.store(1);
      x.store(2);
    });
    auto victim = spawn("victim", [&] {
      if (x.load() == 1) std::abort();
    });
    writer.join();
    victim.join();
  };
  ExploreOptions one = options("dfs", 1);
  const auto expected = explore(one, body);
  ASSERT_TRUE(expected.failed());
  ASSERT_EQ(expected.failure->kind, FailureKind::kCrash);
  const auto r = explore(options("dfs", 2), body);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kCrash);
  EXPECT_EQ(r.digest, expected.digest);
  EXPECT_EQ(r.signal, expected.signal);
}
#endif

// Each job checkpoints its own share to FILE.j: run in slices (each job
// runs at most WEFT_ITERATIONS schedules of its share per run), the
// search ends having run the unsharded count, for dfs and dpor alike.
TEST(WeftJobs, ASearchInJobsRunInSlicesThroughCheckpointsEndsWithTheWhole) {
  const auto body = program("reorder_3").fixed;
  for (const char* strategy : {"dfs", "dpor"}) {
    const std::string path = ::testing::TempDir() + "weft-jobs-test-" +
                             std::to_string(getpid()) + "-" + strategy +
                             ".ckpt";
    for (int j = 0; j < 3; ++j)
      std::remove((path + "." + std::to_string(j)).c_str());
    const auto whole = explore(options(strategy, 3), body);
    std::uint64_t total = 0;
    for (int slice = 0;; ++slice) {
      ASSERT_LT(slice, 50) << strategy;
      ExploreOptions o = options(strategy, 3);
      o.iterations = 400;
      o.checkpoint_file = path;
      const auto r = explore(o, body);
      ASSERT_FALSE(r.failed()) << r.report;
      total += r.schedules;
      if (r.exhausted) {
        EXPECT_THAT(r.summary, HasSubstr("(checkpoints " + path + ".0 to .2)"));
        break;
      }
    }
    EXPECT_EQ(total, whole.schedules) << strategy;
    for (int j = 0; j < 3; ++j)
      std::remove((path + "." + std::to_string(j)).c_str());
  }
}
#endif  // !WEFT_TSAN

TEST(WeftJobs, ABadValueIsRefusedNamingTheVariable) {
  for (const char* bad :
       {"0", "x", "3x", "-1", "257", "99999999999999999999"}) {
    setenv("WEFT_JOBS", bad, 1);
    ExploreOptions o;
    try {
      apply_environment(o);
      ADD_FAILURE() << "WEFT_JOBS=" << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("WEFT_JOBS='" + std::string(bad) + "'"));
    }
  }
  setenv("WEFT_JOBS", "4", 1);
  ExploreOptions o;
  apply_environment(o);
  EXPECT_EQ(o.jobs, 4u);
  unsetenv("WEFT_JOBS");
}

#if !defined(WEFT_TSAN)
// The lines docs/guide.md shows ("Several processes on one machine"):
// the fixed reorder_3 within 2 preemptions in three jobs, dfs and dpor.
// Of the bad one's report, the guide shows the first line unchecked: its
// count depends on when the other jobs stopped; the rest is fixed.
TEST(WeftJobs, TheGuidesJobsLinesAreThese) {
  const auto p = program("reorder_3");
  for (const char* strategy : {"dfs", "dpor"}) {
    const std::string line = explore(options(strategy, 3), p.fixed).summary;
    std::cout << line << "\n";
    EXPECT_THAT(line, HasSubstr("in 3 jobs (WEFT_JOBS)"));
  }
  const auto r = explore(options("dfs", 3), p.bad);
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.report, ::testing::StartsWith("weft: assertion failed after "));
  EXPECT_THAT(
      r.report.substr(0, r.report.find('\n')),
      ::testing::EndsWith(" schedules in 3 jobs (strategy dfs, seed 97)"));
}
#endif  // !WEFT_TSAN

}  // namespace
}  // namespace weft::sim
