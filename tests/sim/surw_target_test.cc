#include "sim/surw_target.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/harness/explore.h"

namespace weft::sim {
namespace {

RC_GTEST_PROP(SurwTarget, AChoiceSurvivesItsEncoding,
              (std::vector<std::uint8_t> counts,
               std::set<std::pair<std::uint8_t, std::uint8_t>> names,
               bool guarded, bool every)) {
  SurwTarget::Choice c;
  c.counts.assign(counts.begin(), counts.end());
  c.guarded = guarded;
  c.every = every && !guarded;  // every racing candidate: none guarded
  for (const auto& [strand, ordinal] : names)
    c.names.push_back(std::uint64_t{strand} << 32 | ordinal);
  RC_PRE(!c.names.empty());
  std::sort(c.names.begin(), c.names.end());
  const SurwTarget::Choice back = SurwTarget::decode(SurwTarget::encode(c));
  RC_ASSERT(back.counts == c.counts);
  RC_ASSERT(back.names == c.names);
  RC_ASSERT(back.guarded == c.guarded);
  RC_ASSERT(back.every == c.every);
}

TEST(SurwTarget, AMalformedTargetIsRefusedWithWhere) {
  for (const char* bad : {"", "3,2", "3/", "3/x", "3/1", "3/1.", "3/2-1.0",
                          "3/1.0,,2.0", "3/1-99999999.0"})
    EXPECT_THROW(SurwTarget::decode(bad), std::invalid_argument) << bad;
  SurwTarget::Choice c;
  c.counts = {0, 2, 2, 2};
  c.names = {std::uint64_t{1} << 32, std::uint64_t{2} << 32,
             std::uint64_t{3} << 32 | 1};
  EXPECT_EQ(SurwTarget::encode(c), "0,2*3/1-2.0,3.1");
}

TEST(SurwTarget, AMalformedTargetInTheEnvironmentNamesTheVariable) {
  ::setenv("WEFT_SURW_TARGET", "3/x", 1);
  ExploreOptions o;
  try {
    apply_environment(o);
    ADD_FAILURE() << "accepted a malformed target";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("WEFT_SURW_TARGET='3/x'"),
              std::string::npos)
        << e.what();
  }
  ::unsetenv("WEFT_SURW_TARGET");
}

// Three objects, as one schedule touched them: `shared` by strands 1 and 2
// (1 writes), `mine` by strand 1 alone, `read` by both without a write.
// Only `shared` passes the paper's filter, so it is every draw's target;
// strand 1 also took a mutex twice, which its count includes, and strand
// 0 spawned both, so its count is theirs.
TEST(SurwTarget, DrawsOnlyAnAtomicThatTwoStrandsTouchAndOneWrote) {
  int shared = 0, mine = 0, read = 0;
  SurwTarget t;
  Rng rng(1);
  t.begin(rng);
  EXPECT_FALSE(t.active());  // nothing seen yet
  t.touched(1, &mine, true, true);
  t.touched(1, &shared, true, true);  // an access no mutex ordered
  t.touched(1, &shared, false, false);
  t.touched(1, &read, false, false);
  t.locked(1);
  t.locked(1);
  t.touched(2, &read, false, false);
  t.touched(2, &shared, false, false);
  t.end({kNoStrand, 0, 0});
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Rng r(seed);
    t.begin(r);
    ASSERT_TRUE(t.active());
    // shared is strand 1's second object and strand 2's second.
    EXPECT_EQ(t.choice().names,
              (std::vector<std::uint64_t>{std::uint64_t{1} << 32 | 1,
                                          std::uint64_t{2} << 32 | 1}));
    EXPECT_EQ(t.choice().counts, (std::vector<std::uint32_t>{5, 4, 1}));
    EXPECT_FALSE(t.choice().guarded);
  }
}

// The same schedule with every access to `shared` made holding a common
// mutex: the target is guarded, so the counts are the acquisitions alone
// (its accesses add no events), until a schedule makes an access to it
// that no common mutex orders.
TEST(SurwTarget,
     AGuardedTargetCountsOnlyTheAcquisitionsUntilAnAccessIsUnordered) {
  int shared = 0;
  SurwTarget t;
  Rng rng(1);
  t.begin(rng);
  t.locked(1);
  t.touched(1, &shared, true, false);
  t.touched(1, &shared, false, false);
  t.locked(2);
  t.touched(2, &shared, false, false);
  t.end({kNoStrand, 0, 0});
  t.begin(rng);
  ASSERT_TRUE(t.active());
  EXPECT_TRUE(t.choice().guarded);
  EXPECT_EQ(t.choice().counts, (std::vector<std::uint32_t>{2, 1, 1}));
  t.touched(1, &shared, false, false);  // the same names as before
  t.locked(2);
  t.touched(2, &shared, true, true);
  t.end({kNoStrand, 0, 0});
  t.begin(rng);
  ASSERT_TRUE(t.active());
  EXPECT_FALSE(t.choice().guarded);
  EXPECT_EQ(t.choice().counts, (std::vector<std::uint32_t>{5, 3, 2}));
}

// Asked for every racing candidate: `x` and `y` (each touched by strands 1
// and 2, unlocked, one writing) are targets at once, with their accesses
// summed; `z`, whose accesses never raced, and `mine`, strand 1's alone,
// are not. In the next schedule both resolve, each at its own address.
TEST(SurwTarget, DrawsEveryRacingCandidateAtOnceWithTheirCountsSummed) {
  int x = 0, y = 0, z = 0, mine = 0, x2 = 0, y2 = 0;
  SurwTarget t;
  Rng rng(1);
  t.begin(rng);
  t.touched(1, &x, true, false);
  t.touched(1, &y, false, false);
  t.touched(1, &z, true, false);
  t.touched(1, &mine, true, false);
  t.touched(2, &x, false, true);
  t.touched(2, &y, true, true);
  t.touched(2, &y, false, false);
  t.touched(2, &z, false, false);
  t.end({kNoStrand, 0, 0});
  t.begin(rng, nullptr, true);
  ASSERT_TRUE(t.active());
  EXPECT_TRUE(t.choice().every);
  EXPECT_FALSE(t.choice().guarded);
  // x and y are strand 1's objects 0 and 1 and strand 2's 0 and 1.
  EXPECT_EQ(t.choice().names,
            (std::vector<std::uint64_t>{
                std::uint64_t{1} << 32 | 0, std::uint64_t{1} << 32 | 1,
                std::uint64_t{2} << 32 | 0, std::uint64_t{2} << 32 | 1}));
  EXPECT_EQ(t.choice().counts, (std::vector<std::uint32_t>{5, 2, 3}));
  EXPECT_TRUE(t.resolve(2, &x2));
  t.touched(2, &x2, false, false);
  EXPECT_TRUE(t.resolve(2, &y2));  // a second target in one schedule
  EXPECT_TRUE(t.is_target(&x2));
  EXPECT_TRUE(t.is_target(&y2));
  EXPECT_FALSE(t.is_target(&z));
  EXPECT_FALSE(t.resolve(1, &x2));  // known already
  // One drawn as before when asked for one.
  t.end({kNoStrand, 0, 0});
  t.begin(rng);
  EXPECT_FALSE(t.choice().every);
}

// One racing candidate alone is no reason to target every one: asked for
// every racing candidate, the draw is the usual one (`x` or the guarded
// `z`, in proportion to their accesses), not `x` every time.
TEST(SurwTarget, EveryRacingCandidateNeedsTwoOfThem) {
  int x = 0, z = 0;
  SurwTarget t;
  Rng rng(1);
  t.begin(rng);
  t.touched(1, &x, true, false);
  t.touched(1, &z, true, false);
  t.touched(2, &x, false, true);
  t.touched(2, &z, false, false);
  t.end({kNoStrand, 0, 0});
  bool guarded_drawn = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Rng r(seed);
    t.begin(r, nullptr, true);
    ASSERT_TRUE(t.active());
    EXPECT_FALSE(t.choice().every);
    guarded_drawn = guarded_drawn || t.choice().guarded;
  }
  EXPECT_TRUE(guarded_drawn);
}

// The target is known by name: in a new schedule, where its address
// differs, the first strand about to touch its name's object makes that
// address the target, and not before.
TEST(SurwTarget, ResolvesTheTargetByNameWhateverItsAddress) {
  int x = 0, a = 0, b = 0, c = 0;
  SurwTarget t;
  Rng rng(1);
  t.begin(rng);
  t.touched(1, &x, true, true);  // strand 1's objects: x, then a
  t.touched(1, &a, true, true);
  t.touched(2, &a, false, false);  // strand 2's: a
  t.end({kNoStrand, 0, 0});
  t.begin(rng);
  ASSERT_TRUE(t.active());  // a, named (1, 1) and (2, 0)
  EXPECT_EQ(t.object(), nullptr);
  EXPECT_FALSE(t.resolve(3, &b));  // strand 3 has no name of it
  EXPECT_FALSE(t.resolve(1, &b));  // strand 1's first object: x's name
  t.touched(1, &b, true, true);
  EXPECT_EQ(t.object(), nullptr);
  EXPECT_TRUE(t.resolve(1, &c));  // strand 1's second object: a's name
  EXPECT_EQ(t.object(), &c);
  EXPECT_FALSE(t.resolve(2, &b));  // known now: nothing else resolves
  EXPECT_EQ(t.object(), &c);
}

}  // namespace
}  // namespace weft::sim
