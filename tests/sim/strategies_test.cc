// The strategies added beside PCT and the walk (pctrange, delaybound, the
// WEFT_MAX_PREEMPTIONS budget, the default portfolio): each finds a bug
// the others find slower, counted in schedules from fixed seeds, and each
// makes the same schedules from the same seeds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sim/delay_bound_strategy.h"
#include "sim/harness/explore.h"
#include "sim/harness/preemption_budget.h"
#include "sim/harness/strategy_registry.h"
#include "sim/pct_range_strategy.h"
#include "sim/weft.h"
#include "tests/support/sctbench.h"
#include "tests/support/strategy_programs.h"

namespace weft::sim {
namespace {

std::unique_ptr<Strategy> make(const std::string& name,
                               const ExploreOptions& o = {}) {
  const StrategyEntry* e = find_strategy(name);
  EXPECT_NE(e, nullptr) << name;
  return e->make(o);
}

// The digests of the schedules `strategy` makes from seeds first..first+n.
std::vector<std::uint64_t> digests(Strategy& strategy, std::uint64_t first,
                                   int n, const std::function<void()>& body) {
  Scheduler sched(RunLimits{});
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back(digest(sched.run(strategy, first + i, body).schedule));
  return out;
}

// Schedules to the first bug over `seeds` trials (a miss counts as cap).
std::uint64_t total_to_bug(const std::function<void()>& body,
                           const std::string& strategy, int seeds,
                           std::uint64_t cap, int* found = nullptr) {
  std::uint64_t total = 0;
  for (int t = 0; t < seeds; ++t) {
    const auto n = weft::test::schedules_to_first_bug(body, strategy, t, cap);
    total += n != 0 ? n : cap;
    if (found != nullptr) *found += n != 0;
  }
  return total;
}

TEST(NewStrategies, EachMakesTheSameSchedulesFromTheSameSeeds) {
  for (const char* name :
       {"pctrange", "delaybound", "surw", "portfolio", "pctwalk", "pct"}) {
    ExploreOptions o;
    o.max_preemptions = 1;
    auto one = make(name);
    auto two = make(name);
    auto budgeted = with_preemption_budget(make(name), 1);
    auto budgeted_again = with_preemption_budget(make(name), 1);
    const auto body = [] { weft::test::reorder(5); };
    const auto first = digests(*one, 100, 40, body);
    EXPECT_EQ(first, digests(*two, 100, 40, body)) << name;
    EXPECT_GT(std::set<std::uint64_t>(first.begin(), first.end()).size(), 1u)
        << name << " made one schedule only";
    EXPECT_EQ(digests(*budgeted, 7, 40, body),
              digests(*budgeted_again, 7, 40, body))
        << name;
  }
}

// --- pctrange ------------------------------------------------------------

TEST(PctRange, DrawsEveryDepthFromOneToTheMaximumAndNoOther) {
  std::set<int> seen;
  for (std::uint64_t seed = 0; seed < 500; ++seed)
    seen.insert(PctRangeStrategy::depth_for(seed, 5));
  EXPECT_EQ(seen, (std::set<int>{1, 2, 3, 4, 5}));
}

TEST(PctRange, FindsABugOfDepthFourThatPctOfDepthThreeNeverFinds) {
  const auto chain = [] { weft::test::preemption_chain(10, 5, 2); };
  int range_found = 0, pct_found = 0;
  const auto range = total_to_bug(chain, "pctrange", 3, 30'000, &range_found);
  total_to_bug(chain, "pct", 3, 5'000, &pct_found);
  std::cout << "preemption_chain(10): pctrange found " << range_found << "/3 ("
            << range << " schedules), pct found " << pct_found
            << "/3 in 5,000 each\n";
  EXPECT_EQ(range_found, 3);
  EXPECT_EQ(pct_found, 0);
}

TEST(PctRange, ThePrintedPctCommandReplaysTheFailure) {
  ExploreOptions o;
  o.strategy = "pctrange";
  o.iterations = 30'000;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.shrink = false;
  const auto body = [] { weft::test::preemption_chain(10, 5, 2); };
  const auto found = explore(o, body);
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.strategy, "pctrange");
  EXPECT_THAT(found.environment, ::testing::HasSubstr("WEFT_STRATEGY=pct "));
  const auto depth_at = found.environment.find("WEFT_PCT_DEPTH=") + 15;
  const auto steps_at = found.environment.find("WEFT_PCT_STEPS=") + 15;
  ExploreOptions again = o;
  again.strategy = "pct";
  again.pct_depth = std::stoi(found.environment.substr(depth_at));
  again.pct_steps = std::stoull(found.environment.substr(steps_at));
  again.seed = found.seed;
  again.iterations = 1;
  const auto replayed = explore(again, body);
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.digest, found.digest);
}

// --- delaybound ----------------------------------------------------------

TEST(DelayBound, FindsAHandoffAmongSixteenWorkersFasterThanPctAndTheWalk) {
  const auto body = [] { weft::test::handoff(16, 10); };
  int delay_found = 0, random_found = 0;
  const auto delay = total_to_bug(body, "delaybound", 6, 5'000, &delay_found);
  const auto pct = total_to_bug(body, "pct", 6, 5'000);
  total_to_bug(body, "random", 6, 5'000, &random_found);
  std::cout << "handoff(16, 10), 6 seeds: delaybound " << delay
            << " schedules in all, pct " << pct << ", random found "
            << random_found << "/6\n";
  EXPECT_EQ(delay_found, 6);
  EXPECT_LT(delay * 2, pct);
  EXPECT_LT(random_found, 6);
}

TEST(DelayBound, WithNoDelaysEverySeedMakesTheOneRoundRobinSchedule) {
  DelayBoundStrategy none(0);
  const auto all = digests(none, 0, 20, [] { weft::test::twostage(4); });
  EXPECT_EQ(std::set<std::uint64_t>(all.begin(), all.end()).size(), 1u);
  Scheduler sched(RunLimits{});
  EXPECT_EQ(count_preemptions(
                sched.run(none, 3, [] { weft::test::reorder(4); }).schedule),
            0u);
}

RC_GTEST_PROP(DelayBound, AScheduleNeverPreemptsMoreOftenThanItsDelays,
              (std::uint64_t seed)) {
  const int delays = *rc::gen::inRange(0, 5);
  DelayBoundStrategy strategy(delays, 40);
  Scheduler sched(RunLimits{});
  const auto r = sched.run(strategy, seed, [] { weft::test::reorder(4); });
  RC_ASSERT(count_preemptions(r.schedule) <= static_cast<std::size_t>(delays));
  RC_ASSERT(strategy.delays_made() <= delays);
}

// --- WEFT_MAX_PREEMPTIONS ------------------------------------------------

RC_GTEST_PROP(PreemptionBudget, NoScheduleOfAnyStrategyPassesTheBudget,
              (std::uint64_t seed)) {
  const int budget = *rc::gen::inRange(0, 4);
  const auto names = strategy_registry();
  const auto& entry = names[*rc::gen::inRange<std::size_t>(0, names.size())];
  auto strategy = with_preemption_budget(entry.make(ExploreOptions{}), budget);
  Scheduler sched(RunLimits{});
  for (int i = 0; i < 3; ++i) {
    const auto r =
        sched.run(*strategy, seed + i, [] { weft::test::reorder(5); });
    RC_ASSERT(count_preemptions(r.schedule) <=
              static_cast<std::size_t>(budget));
  }
}

// A lost update: found only by preempting one increment between its load
// and its store.
void lost_update() {
  Atomic<int> x{0};
  auto t = spawn("t", [&] { x.store(x.load() + 1); });
  x.store(x.load() + 1);
  t.join();
  WEFT_ASSERT(x.load() == 2);
}

TEST(PreemptionBudget, ZeroNeverFindsABugThatNeedsOnePreemptionAndOneDoes) {
  ExploreOptions o;
  o.strategy = "random";
  o.iterations = 500;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.shrink = false;
  o.max_preemptions = 0;
  const auto none = explore(o, lost_update);
  EXPECT_FALSE(none.failed());
  EXPECT_EQ(none.max_preemptions, 0u);
  o.max_preemptions = 1;
  const auto one = explore(o, lost_update);
  ASSERT_TRUE(one.failed());
  EXPECT_THAT(one.environment, ::testing::HasSubstr("WEFT_STRATEGY=random "
                                                    "WEFT_MAX_PREEMPTIONS=1"));
  EXPECT_LE(count_preemptions(one.schedule), 1u);
}

TEST(PreemptionBudget, LowersTheBoundOfAnExhaustiveSearch) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.iterations = 100'000;
  o.use_environment = false;
  o.print = false;
  o.max_preemptions = 0;
  const auto r = explore(o, [] { weft::test::reorder(3); });
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(r.max_preemptions, 0u);
  EXPECT_THAT(r.summary, ::testing::HasSubstr("within 0 preemptions"));
}

TEST(PreemptionBudget, AMalformedBudgetOrBoundNamesItsVariable) {
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, const char*>>{
           {"WEFT_MAX_PREEMPTIONS", "-1"},
           {"WEFT_MAX_PREEMPTIONS", "many"},
           {"WEFT_PCT_MAX_DEPTH", "0"},
           {"WEFT_DELAY_BOUND", "2x"}}) {
    setenv(name, value, 1);
    ExploreOptions o;
    try {
      apply_environment(o);
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(std::string(name) + "='" +
                                                 value + "' is not valid"));
    }
    unsetenv(name);
  }
}

// --- portfolio (the default) ---------------------------------------------

TEST(Portfolio, FindsReorderTwentyFasterThanTheFormerDefaultPctwalk) {
  const auto body = [] { weft::test::reorder(20); };
  int found = 0, default_found = 0;
  const auto mine = total_to_bug(body, "portfolio", 5, 1'000, &found);
  const auto theirs = total_to_bug(body, "pctwalk", 5, 1'000, &default_found);
  std::cout << "reorder_20, 5 seeds of at most 1,000: portfolio found " << found
            << " (" << mine << " schedules in all), pctwalk " << default_found
            << " (" << theirs << ")\n";
  EXPECT_EQ(found, 5);
  EXPECT_LT(mine * 4, theirs);
}

}  // namespace
}  // namespace weft::sim
