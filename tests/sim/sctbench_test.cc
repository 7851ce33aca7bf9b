// The SCTBench-style suite (tests/support/sctbench_programs.h): every bad
// program's bug is found, and of the kind it is meant to be, and every fixed
// program whose tree is small enough passes bounded exhaustive search within
// two preemptions, with the count of schedules printed. Scaled programs run
// at N <= 10 (bad) and N <= 4 (fixed) here; the benchmark (sctbench_bench)
// runs them all.
#include <gtest/gtest.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "tests/support/sctbench_programs.h"

namespace weft::test {
namespace {

constexpr int kBound = 2;

// Those with bugs found within 20,000 schedules; three_preemptions has its
// own tests below.
std::vector<std::string> small_programs() {
  std::vector<std::string> names;
  for (const SctProgram& p : sct_programs())
    if (p.scale <= 10 && p.name != "three_preemptions") names.push_back(p.name);
  return names;
}

// Sanitized builds run 5-20 times slower: there the searches of more than
// 50,000 schedules are left to the g++ build.
#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
bool big(const std::string& name) {
  for (const char* b : {"wronglock_3", "token_ring", "carter01", "reorder_4",
                        "three_preemptions"})
    if (name == b) return true;
  return false;
}

// Those whose fixed variant's tree within two preemptions is under half a
// million schedules: all but wronglock (eight strands, and every order of
// them is free) and the scaled ones past N = 4 (likewise). The benchmark
// prints their counts, capped.
std::vector<std::string> exhaustible_programs() {
  std::vector<std::string> names;
  for (const SctProgram& p : sct_programs())
    if (p.scale <= 4 && p.name != "wronglock" && !(kSanitized && big(p.name)))
      names.push_back(p.name);
  return names;
}

SctProgram program(const std::string& name) {
  auto p = find_sct_program(name);
  EXPECT_TRUE(p.has_value()) << name;
  return p.value_or(SctProgram{});
}

SearchOutcome dfs(const std::function<void()>& body, std::uint64_t cap) {
  SearchOptions o;
  o.strategy = "dfs";
  o.preemption_bound = kBound;
  o.cap = cap;
  return search(body, o);
}

class SctBench : public ::testing::TestWithParam<std::string> {};
class SctBenchFixed : public ::testing::TestWithParam<std::string> {};

// Some strategy finds every bug within 20,000 schedules: the samplers
// first (one seed each), then depth-first search within two preemptions.
// All but the bug that needs three preemptions, which PCT of depth 4 finds
// (ThreePreemptions below).
TEST_P(SctBench, BadVariantFailsWithItsKindOfBug) {
  const SctProgram p = program(GetParam());
  SearchOutcome r;
  std::string by;
  for (const char* strategy : {"random", "pct", "surw", "dfs"}) {
    SearchOptions o;
    o.strategy = by = strategy;
    o.preemption_bound = kBound;
    o.cap = 20'000;
    r = search(p.bad, o);
    if (r.failure) break;
  }
  ASSERT_TRUE(r.failure.has_value()) << p.name << ": no strategy found it";
  EXPECT_EQ(r.failure->kind, p.bug) << r.failure->message;
  std::cout << p.name << ": " << to_string(r.failure->kind) << " after "
            << r.schedules << " schedules of " << by << "\n";
}

TEST_P(SctBenchFixed, FixedVariantPassesEveryScheduleWithinTwoPreemptions) {
  const SctProgram p = program(GetParam());
  const SearchOutcome r = dfs(p.fixed, 1'000'000);
  EXPECT_FALSE(r.failure.has_value()) << r.failure->message;
  EXPECT_TRUE(r.finished) << p.name << ": the search did not end within "
                          << r.schedules << " schedules";
  EXPECT_GT(r.schedules, 0u);
  std::cout << p.name << " (fixed): exhaustive within " << kBound
            << " preemptions: " << r.schedules << " schedules, all passed\n";
}

INSTANTIATE_TEST_SUITE_P(Suite, SctBench, ::testing::ValuesIn(small_programs()),
                         [](const auto& p) { return p.param; });
INSTANTIATE_TEST_SUITE_P(Suite, SctBenchFixed,
                         ::testing::ValuesIn(exhaustible_programs()),
                         [](const auto& p) { return p.param; });

TEST(SctBenchTable, NamesEveryProgramOfTheIssueOnceWithBothVariants) {
  std::set<std::string> names;
  for (const SctProgram& p : sct_programs()) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name << " twice";
    EXPECT_TRUE(p.bad && p.fixed) << p.name;
    EXPECT_EQ(p.paper_key.empty(), p.paper.surw[0] == '\0') << p.name;
  }
  for (const char* name :
       {"account", "wronglock", "wronglock_3", "token_ring", "carter01",
        "deadlock01", "lazy01", "circular_buffer", "bluetooth_driver", "stack",
        "work_steal_queue", "reorder_3", "reorder_100", "twostage_2",
        "twostage_3", "twostage_100", "three_preemptions"})
    EXPECT_EQ(names.count(name), 1u) << name;
}

TEST(SctBenchTable, FindsAnyScaleByNameAndRefusesOthers) {
  const auto p = find_sct_program("reorder_37");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->scale, 37);
  // The paper's twostage_20 is 10 writers and 10 readers: its figures are
  // on the _c10 row, not on the one-reader twostage_20.
  EXPECT_EQ(find_sct_program("twostage_20_c10")->paper_key, "CS/twostage_20");
  EXPECT_EQ(find_sct_program("reorder_50_c10")->paper_key, "CS/reorder_50");
  EXPECT_EQ(find_sct_program("twostage_20")->paper_key, "");
  // The paper's twostage is PERIOD's, one writer and one reader.
  EXPECT_EQ(find_sct_program("twostage_2")->paper_key, "CS/twostage");
  EXPECT_EQ(find_sct_program("twostage_3")->paper_key, "");
  EXPECT_EQ(find_sct_program("reorder_100")->paper_key, "CS/reorder_100");
  const auto split = find_sct_program("reorder_9_c4");
  ASSERT_TRUE(split.has_value());
  EXPECT_EQ(split->name, "reorder_9_c4");
  EXPECT_EQ(split->scale, 9);
  for (const char* bad : {"reorder_1", "reorder_x", "reorder_1001", "twostage_",
                          "nothing", "reorder_20_c20", "reorder_20_c0",
                          "reorder_20_c", "twostage_5_cx", "reorder_20_c1x"})
    EXPECT_FALSE(find_sct_program(bad).has_value()) << bad;
}

TEST(SctBenchTable, OnlyExhaustiveStrategiesEndASearchThemselves) {
  EXPECT_TRUE(is_exhaustive("dfs"));
  EXPECT_FALSE(is_exhaustive("random"));
  EXPECT_FALSE(is_exhaustive("pct"));
}

// The bug of three_preemptions needs three preemptions: every schedule
// with two passes, and PCT of depth 4 (three priority change points)
// finds it.
TEST(ThreePreemptions, EveryScheduleWithinTwoPreemptionsPasses) {
  if (kSanitized) GTEST_SKIP() << "108,011 schedules: g++ build only";
  const SearchOutcome r = dfs(program("three_preemptions").bad, 2'000'000);
  EXPECT_FALSE(r.failure.has_value()) << r.failure->message;
  EXPECT_TRUE(r.finished);
  std::cout << "three_preemptions (bad): exhaustive within " << kBound
            << " preemptions: " << r.schedules << " schedules, all passed\n";
}

TEST(ThreePreemptions, PctOfDepthFourFindsTheBug) {
  if (kSanitized) GTEST_SKIP() << "79,632 schedules: g++ build only";
  SearchOptions o;
  o.strategy = "pct";
  o.pct_depth = 4;
  o.cap = 2'000'000;
  const SearchOutcome r = search(program("three_preemptions").bad, o);
  ASSERT_TRUE(r.failure.has_value()) << r.schedules << " schedules";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  std::cout << "three_preemptions: pct d=4 found it after " << r.schedules
            << " schedules\n";
}

}  // namespace
}  // namespace weft::test
