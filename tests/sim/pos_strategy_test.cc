#include "sim/pos_strategy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <vector>

#include "sim/weft.h"
#include "tests/support/sctbench.h"

namespace weft::sim {
namespace {

std::vector<std::uint64_t> digests(Strategy& s, std::uint64_t seed, int n) {
  Scheduler sched(RunLimits{});
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i)
    out.push_back(digest(sched
                             .run(s, seed + static_cast<std::uint64_t>(i),
                                  [] { test::twostage(4); })
                             .schedule));
  return out;
}

TEST(PosStrategy, TheSameSeedMakesTheSameSchedules) {
  PosStrategy a, b;
  const auto first = digests(a, 42, 50);
  EXPECT_EQ(first, digests(b, 42, 50));
  PosStrategy c;
  EXPECT_NE(first, digests(c, 43, 50));
}

// Schedules `strategy` needs to find twostage_n's bug in trial `trial`, or
// cap + 1 if it does not within `cap`.
std::uint64_t to_bug(const char* strategy, int n, std::uint64_t trial,
                     std::uint64_t cap) {
  const std::uint64_t k = test::schedules_to_first_bug(
      [n] { test::twostage(n); }, strategy, trial, cap);
  return k != 0 ? k : cap + 1;
}

TEST(PosStrategy, FindsTwostageTenWhereTheWalkNeedsFarMore) {
  constexpr std::uint64_t kCap = 1000;
  std::uint64_t pos_total = 0, random_total = 0;
  int pos_found = 0, random_found = 0;
  for (std::uint64_t trial = 0; trial < 8; ++trial) {
    const std::uint64_t p = to_bug("pos", 10, trial, kCap);
    const std::uint64_t r = to_bug("random", 10, trial, kCap);
    pos_total += p;
    random_total += r;
    pos_found += p <= kCap;
    random_found += r <= kCap;
  }
  std::cout << "twostage_10, 8 trials of at most " << kCap
            << " schedules: pos found " << pos_found << " (" << pos_total
            << " schedules in all), random " << random_found << " ("
            << random_total << ")\n";
  EXPECT_EQ(pos_found, 8);
  EXPECT_LE(random_found, 5);
  // Trials the walk missed count as the cap plus one: a lower bound.
  EXPECT_GT(random_total, 3 * pos_total);
}

}  // namespace
}  // namespace weft::sim
