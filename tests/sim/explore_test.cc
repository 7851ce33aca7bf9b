#include "sim/harness/explore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sim/harness/gtest.h"
#include "sim/harness/strategy_registry.h"
#include "sim/weft.h"
#include "tests/sim/child_process.h"

namespace weft::sim {
namespace {

using ::testing::HasSubstr;

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    setenv(name, value, 1);
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

std::string config_error_for(const char* name, const char* value) {
  ScopedEnv env(name, value);
  ExploreOptions o;
  try {
    apply_environment(o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

void two_lockers() {
  Mutex m;
  int n = 0;
  auto a = spawn("a", [&] {
    std::lock_guard lk(m);
    ++n;
  });
  {
    std::lock_guard lk(m);
    ++n;
  }
  a.join();
  WEFT_ASSERT(n == 2);
}

TEST(ExploreEnvironment, MalformedSeedNamesTheVariableAndTheAcceptedValues) {
  const std::string e = config_error_for("WEFT_SEED", "abc");
  EXPECT_THAT(e, HasSubstr("WEFT_SEED='abc'"));
  EXPECT_THAT(e, HasSubstr("decimal or 0x-hexadecimal"));
}

TEST(ExploreEnvironment, UnknownStrategyListsTheStrategies) {
  const std::string e = config_error_for("WEFT_STRATEGY", "nope");
  EXPECT_THAT(e, HasSubstr("WEFT_STRATEGY='nope'"));
  EXPECT_THAT(e, HasSubstr("portfolio, pct, random"));
}

TEST(ExploreEnvironment, OutOfRangeNumbersAreRefused) {
  EXPECT_THAT(config_error_for("WEFT_ITERATIONS", "0"),
              HasSubstr("WEFT_ITERATIONS='0'"));
  EXPECT_THAT(config_error_for("WEFT_PCT_DEPTH", "99"),
              HasSubstr("from 1 to 32"));
  EXPECT_THAT(config_error_for("WEFT_MAX_STEPS", "-5"),
              HasSubstr("WEFT_MAX_STEPS='-5'"));
  EXPECT_THAT(config_error_for("WEFT_SEED", "99999999999999999999999"),
              HasSubstr("WEFT_SEED"));
}

TEST(ExploreEnvironment, WellFormedValuesOverrideTheOptions) {
  ScopedEnv seed("WEFT_SEED", "0x10");
  ScopedEnv iterations("WEFT_ITERATIONS", "7");
  ScopedEnv strategy("WEFT_STRATEGY", "random");
  ExploreOptions o;
  apply_environment(o);
  EXPECT_EQ(o.seed, 16u);
  EXPECT_EQ(o.iterations, 7u);
  EXPECT_EQ(o.strategy, "random");
}

TEST(ExploreEnvironment, ABadVariableFailsTheGoogleTestWithItsMessage) {
  ScopedEnv env("WEFT_STRATEGY", "nope");
  EXPECT_NONFATAL_FAILURE(weft::testing::explore([] {}),
                          "WEFT_STRATEGY='nope'");
}

TEST(Explore, ShardsSplitTheScheduleRangeBetweenThem) {
  std::uint64_t total = 0;
  for (std::uint64_t shard = 0; shard < 4; ++shard) {
    set_shard(shard, 4);
    ExploreOptions o;
    o.iterations = 103;
    o.use_environment = false;
    total += explore(o, [] { yield_now(); }).schedules;
  }
  set_shard(0, 1);
  EXPECT_EQ(total, 103u);
}

// Run by the test below in child processes, as one shard of a CI matrix.
TEST(ExploreShardPrinter, PrintsHowManySchedulesThisShardRan) {
  ExploreOptions o;
  o.iterations = 90;
  const auto r = weft::testing::explore(o, [] { yield_now(); });
  EXPECT_GT(r.schedules, 0u);
  if (std::getenv("WEFT_TEST_PRINT_SCHEDULES") != nullptr)
    std::printf("schedules=%llu\n",
                static_cast<unsigned long long>(r.schedules));
}

TEST(Explore, GoogleTestShardVariablesSplitOneExplorationAcrossProcesses) {
  unsigned long long total = 0;
  for (int shard = 0; shard < 3; ++shard) {
    const auto ran = testing::run_child_and_read(
        "WEFT_TEST_PRINT_SCHEDULES=1 GTEST_TOTAL_SHARDS=3 GTEST_SHARD_INDEX=" +
            std::to_string(shard),
        "ExploreShardPrinter.*", "schedules");
    // Every shard runs the test (GoogleTest alone would run it on one),
    // each its third of the schedules.
    ASSERT_TRUE(ran.has_value()) << "shard " << shard;
    EXPECT_EQ(*ran, 30u) << "shard " << shard;
    total += *ran;
  }
  EXPECT_EQ(total, 90u);
}

TEST(Explore, AnUnfailingBodyRunsEverySchedule) {
  ExploreOptions o;
  o.iterations = 300;
  o.use_environment = false;
  const auto r = explore(o, [] {
    auto a = spawn([] { yield_now(); });
    a.join();
  });
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.schedules, 300u);
}

TEST(Explore, ReportSaysWhatWhereAndHowToReplay) {
  ExploreOptions o;
  o.iterations = 100;
  o.print = false;
  o.command = "./my_test --gtest_filter=A.B";
  const auto r = explore(o, [] {
    Atomic<int> x{0};
    auto a = spawn("writer", [&] { x.store(1); });
    WEFT_ASSERT_MSG(x.load() == 0, "writer ran first");
    a.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.report, HasSubstr("assertion failed after"));
  EXPECT_THAT(r.report, HasSubstr("seed " + std::to_string(r.seed)));
  EXPECT_THAT(r.report, HasSubstr("at step "));
  EXPECT_THAT(r.report, HasSubstr("virtual time 0s"));
  EXPECT_THAT(r.report, HasSubstr("in strand 'main'"));
  EXPECT_THAT(r.report, HasSubstr("writer ran first"));
  EXPECT_THAT(r.report, HasSubstr("explore_test.cc:"));
  EXPECT_THAT(r.replay_command, HasSubstr("WEFT_ITERATIONS=1"));
  EXPECT_THAT(r.replay_command,
              ::testing::EndsWith("./my_test --gtest_filter=A.B"));
  EXPECT_THAT(r.report, ::testing::Not(HasSubstr("WARNING")));
}

TEST(Explore, WithoutTheEnvironmentTheReportSaysHowToSelectTheSchedule) {
  ExploreOptions o;
  o.iterations = 100;
  o.use_environment = false;
  o.print = false;
  const auto r = explore(o, [] {
    Atomic<int> x{0};
    auto a = spawn("writer", [&] { x.store(1); });
    WEFT_ASSERT(x.load() == 0);
    a.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(
      r.replay_command,
      HasSubstr("ignores WEFT_* variables: set ExploreOptions::seed = " +
                std::to_string(r.seed)));
}

TEST(Explore, ABodyThatDependsOnStateOutsideWeftIsFlaggedNondeterministic) {
  static int runs = 0;
  runs = 0;
  ExploreOptions o;
  o.iterations = 100;
  o.use_environment = false;
  o.print = false;
  o.strategy = "random";
  const auto r = explore(o, [] {
    // Behaves differently every time it runs: a global counter decides.
    const int extra = ++runs;
    Atomic<int> x{0};
    auto a = spawn("a", [&] {
      for (int i = 0; i < extra % 3; ++i) x.fetch_add(1);
    });
    a.join();
    WEFT_ASSERT(runs % 5 != 0);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.report, HasSubstr("WARNING: running this seed again gave a "
                                  "different schedule"));
}

// A replay's own replay command must be one weft accepts (it used to say
// WEFT_STRATEGY=replay, which apply_environment refuses).
TEST(Explore, AReplayedFailurePrintsAReplayCommandWeftAccepts) {
  const std::string dir = ::testing::TempDir() + "weft-replay-cmd";
  auto body = [] {
    Atomic<int> x{0};
    auto a = spawn("writer", [&] { x.store(1); });
    WEFT_ASSERT(x.load() == 0);
    a.join();
  };
  ExploreOptions o;
  o.iterations = 100;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = dir;
  o.command = "./t";
  const auto found = explore(o, body);
  ASSERT_TRUE(found.failed());
  ASSERT_FALSE(found.trace_path.empty());

  ExploreOptions again = o;
  again.replay_file = found.trace_path;
  const auto replayed = explore(again, body);
  ASSERT_TRUE(replayed.failed());
  EXPECT_THAT(replayed.replay_command, ::testing::Not(HasSubstr("replay ")));
  EXPECT_THAT(replayed.replay_command,
              ::testing::StartsWith("WEFT_REPLAY=" + found.trace_path));
  // The variables in it parse.
  ::setenv("WEFT_REPLAY", found.trace_path.c_str(), 1);
  ExploreOptions parsed;
  EXPECT_NO_THROW(apply_environment(parsed));
  EXPECT_EQ(parsed.replay_file, found.trace_path);
  ::unsetenv("WEFT_REPLAY");
}

}  // namespace
}  // namespace weft::sim

namespace weft::sim {
namespace {

// dfs is the strategy added through the registry (sim/dfs_strategy.h and
// one entry in sim/harness/strategy_registry.cc): explore() runs it by name,
// and it ends the search itself.
TEST(ExploreStrategies, DfsCoversEveryScheduleOfACorrectBodyAndSaysSo) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.iterations = 1'000'000;
  o.use_environment = false;
  o.print = false;
  const auto r = explore(o, two_lockers);
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.exhausted);
  EXPECT_LT(r.schedules, 1'000'000u) << "the search should end by itself";
  EXPECT_GT(r.schedules, 10u);
}

TEST(ExploreStrategies, DfsFindsTheLostUpdateAndPrintsACommandThatParses) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 1;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  const auto r = explore(o, [] {
    Atomic<int> x{0};
    auto a = spawn("a", [&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    a.join();
    WEFT_ASSERT(x.load() == 2);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.strategy, "dfs");
  EXPECT_EQ(r.environment, "WEFT_STRATEGY=dfs WEFT_PREEMPTION_BOUND=1");
  EXPECT_THAT(r.report, ::testing::Not(HasSubstr("WARNING")));
}

TEST(ExploreStrategies, EveryRegisteredNameIsAcceptedAndOthersListThem) {
  for (const StrategyEntry& e : strategy_registry()) {
    ScopedEnv env("WEFT_STRATEGY", std::string(e.name).c_str());
    ExploreOptions o;
    EXPECT_NO_THROW(apply_environment(o)) << e.name;
    EXPECT_EQ(o.strategy, e.name);
  }
  ScopedEnv env("WEFT_STRATEGY", "nope");
  ExploreOptions o;
  try {
    apply_environment(o);
    ADD_FAILURE() << "accepted a strategy that is not registered";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("portfolio, pct, random, dfs, surw"));
  }
}

}  // namespace
}  // namespace weft::sim

namespace weft::sim {
namespace {

TEST(ExploreSummary, APassSaysWhatItCoveredByStrategy) {
  ExploreOptions o;
  o.iterations = 400;
  o.use_environment = false;
  o.print = false;
  const auto r = explore(o, two_lockers);
  ASSERT_FALSE(r.failed());
  EXPECT_EQ(r.by_strategy.at("surw") + r.by_strategy.at("pos"), 400u);
  // The first eight schedules are surw's, then pos has seeds 3 modulo 4.
  EXPECT_EQ(r.by_strategy.at("pos"), 98u);
  EXPECT_GT(r.distinct, 1u);
  EXPECT_LE(r.distinct, 400u);
  EXPECT_GT(r.max_preemptions, 0u);
  EXPECT_THAT(r.summary,
              HasSubstr("weft: 400 schedules passed (pos 98, surw 302; "));
  EXPECT_FALSE(r.exhausted);
}

// The default's pos part costs O(n) a choice in the strands: once a
// schedule has had more than 64, pctrange takes its turns.
TEST(ExploreSummary, ACrowdedProgramGivesPosTurnsToPctrange) {
  ExploreOptions o;
  o.iterations = 40;
  o.use_environment = false;
  o.print = false;
  const auto r = explore(o, [] {
    Atomic<int> x{0};
    std::vector<JoinHandle> strands;
    for (int i = 0; i < 80; ++i)
      strands.push_back(spawn("s", [&x] { x.fetch_add(1); }));
    for (auto& s : strands) s.join();
  });
  ASSERT_FALSE(r.failed());
  EXPECT_EQ(r.by_strategy.count("pos"), 0u);
  // After the first eight (surw's), seeds 3 modulo 4.
  EXPECT_EQ(r.by_strategy.at("pctrange"), 8u);
  EXPECT_EQ(r.by_strategy.at("surw"), 32u);
}

// dfs within `bound` preemptions, to its end, quietly.
ExploreOptions exhaustive(int bound) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = bound;
  o.iterations = 1'000'000;
  o.use_environment = false;
  o.print = false;
  return o;
}

TEST(ExploreSummary, AnExhaustiveSearchSaysItsBound) {
  const auto r = explore(exhaustive(1), two_lockers);
  ASSERT_TRUE(r.exhausted);
  // Every dfs schedule is a different path of the tree.
  EXPECT_EQ(r.distinct, r.schedules);
  EXPECT_LE(r.max_preemptions, 1u);
  EXPECT_THAT(r.summary, HasSubstr(": every schedule within 1 preemptions"));
}

// A switch at a yield is the strand giving way, not a preemption: the
// bound does not count it, so neither does the summary (it printed "at
// most 4 preemptions" beside "every schedule within 2 preemptions").
TEST(ExploreSummary, YieldsDoNotCountAsPreemptionsAgainstTheBound) {
  const auto r = explore(exhaustive(0), [] {
    Atomic<int> x{0};
    auto yielder = [&x] {
      for (int i = 0; i < 3; ++i) {
        x.fetch_add(1);
        yield_now();
      }
    };
    JoinHandle a = spawn("a", yielder);
    JoinHandle b = spawn("b", yielder);
    a.join();
    b.join();
  });
  ASSERT_TRUE(r.exhausted);
  EXPECT_GT(r.schedules, 1u);  // the yields switched: several orders
  EXPECT_EQ(r.max_preemptions, 0u);
  EXPECT_THAT(r.summary, HasSubstr("at most 0 preemptions"));
}

TEST(ExploreSummary, ATimeBudgetEndsTheSearchAndSaysSo) {
  ExploreOptions o;
  o.iterations = UINT64_MAX;  // only the budget can end it
  o.time_budget_s = 1;
  o.use_environment = false;
  o.print = false;
  const auto r = explore(o, two_lockers);
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.out_of_time);
  EXPECT_GT(r.schedules, 0u);
  EXPECT_THAT(r.summary, HasSubstr("stopped by WEFT_TIME_BUDGET=1s"));
}

TEST(ExploreEnvironment, BudgetAndVerboseAreReadAndChecked) {
  {
    ScopedEnv budget("WEFT_TIME_BUDGET", "30");
    ScopedEnv verbose("WEFT_VERBOSE", "1");
    ExploreOptions o;
    apply_environment(o);
    EXPECT_EQ(o.time_budget_s, 30u);
    EXPECT_TRUE(o.verbose);
  }
  ScopedEnv bad("WEFT_TIME_BUDGET", "soon");
  ExploreOptions o;
  EXPECT_THROW(apply_environment(o), ConfigError);
}

TEST(ExploreEnvironment, TheDelayBoundIsReadAndChecked) {
  {
    ScopedEnv delay("WEFT_DELAY_BOUND", "3");
    ExploreOptions o;
    apply_environment(o);
    EXPECT_EQ(o.delay_bound, 3);
  }
  EXPECT_THAT(config_error_for("WEFT_DELAY_BOUND", "few"),
              HasSubstr("WEFT_DELAY_BOUND='few' is not valid: expected the "
                        "most delays a schedule may make (dfs, delaybound)"));
  EXPECT_THAT(config_error_for("WEFT_DELAY_BOUND", "1001"),
              HasSubstr("from 0 to 1000"));
}

TEST(ExploreEnvironment, ADelayBoundForDporIsRefusedByName) {
  ExploreOptions o;
  o.strategy = "dpor";
  o.delay_bound = 1;
  o.use_environment = false;
  try {
    explore(o, two_lockers);
    ADD_FAILURE() << "dpor accepted a delay bound";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("WEFT_DELAY_BOUND=1 applies to "
                          "WEFT_STRATEGY=dfs and delaybound, not dpor"));
  }
}

TEST(ExploreSummary, ADelayBoundedSearchSaysBothBounds) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 1;
  o.delay_bound = 1;
  o.iterations = 1'000'000;
  o.use_environment = false;
  o.print = false;
  const auto r = explore(o, two_lockers);
  ASSERT_TRUE(r.exhausted);
  EXPECT_THAT(r.summary,
              HasSubstr(": every schedule within 1 preemptions and 1 delays"));
}

}  // namespace
}  // namespace weft::sim
