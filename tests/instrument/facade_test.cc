// Code on weft's own facade (weft::spawn, weft::Mutex, weft::Atomic) in the
// same test binary as instrumented code, in a file compiled without the
// instrumentation (tests/instrument/CMakeLists.txt): its bugs are found and
// its fixes pass as in any weft test, and one run can mix it with an
// instrumented std::thread program.
#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "sim/weft.h"
#include "tests/instrument/explore_helpers.h"
#include "tests/instrument/thread_counter.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#error "facade_test.cc is the uninstrumented file of instrument_test"
#endif
#endif

namespace weft::test {
namespace {

// Two strands add to a weft::Atomic by load then store: a lost update
// unless the pair is under the mutex.
void facade_counter(bool locked) {
  weft::Atomic<int> n{0};
  weft::Mutex mu("n");
  auto add = [&] {
    std::unique_lock lock(mu, std::defer_lock);
    if (locked) lock.lock();
    n.store(n.load() + 1);
  };
  auto a = weft::spawn("a", add);
  auto b = weft::spawn("b", add);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(n.load() == 2,
                  "lost an update: n = " + std::to_string(n.load()));
}

TEST(FacadeBeside, UninstrumentedFacadeCodeFindsItsLostUpdateAndPassesFixed) {
  const sim::ExploreResult racy =
      exhaustive("dfs", 2, [] { facade_counter(false); });
  ASSERT_TRUE(racy.failed());
  EXPECT_EQ(racy.failure->kind, sim::FailureKind::kAssertion);
  const sim::ExploreResult fixed =
      exhaustive("dfs", 2, [] { facade_counter(true); });
  EXPECT_FALSE(fixed.failed()) << fixed.report;
  EXPECT_TRUE(fixed.exhausted);
}

// One run: the facade's strands beside the instrumented std::thread
// program. Fixed, every schedule within one preemption passes (more of
// them than the program has alone); racy, the program's data race is still
// found.
TEST(FacadeBeside, OneRunMixesFacadeStrandsAndAnInstrumentedProgram) {
  auto mixed = [](int (*program)()) {
    return [program] {
      weft::Atomic<int> done{0};
      auto f = weft::spawn("facade", [&] { done.store(1); });
      const int hits = program();
      f.join();
      WEFT_ASSERT(hits == 2 && done.load() == 1);
    };
  };
  const sim::ExploreResult alone = exhaustive(
      "dfs", 1, [] { WEFT_ASSERT(thread_counter::count_hits_locked() == 2); });
  const sim::ExploreResult fixed =
      exhaustive("dfs", 1, mixed(thread_counter::count_hits_locked));
  EXPECT_FALSE(fixed.failed()) << fixed.report;
  EXPECT_TRUE(alone.exhausted && fixed.exhausted);
  EXPECT_GT(fixed.schedules, alone.schedules);
  const sim::ExploreResult racy =
      exhaustive("dfs", 1, mixed(thread_counter::count_hits_racy));
  ASSERT_TRUE(racy.failed());
  EXPECT_EQ(racy.failure->kind, sim::FailureKind::kDataRace);
}

}  // namespace
}  // namespace weft::test
