// The hooks themselves: inside a simulation every std::atomic operation of
// every width is one choice point and does what std::atomic does; outside
// one they are the plain operations, on real threads too. DPOR sees each
// access's address. Plain accesses become choice points only when asked.
// In the same binary, code on weft's own facade runs as usual.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "sim/instrument/instrument.h"
#include "sim/weft.h"
#include "tests/instrument/explore_helpers.h"

namespace weft::test {
namespace {

std::uint64_t steps_now() { return sim::Scheduler::current()->step(); }

// Runs `op` and checks it took exactly one choice point. The signal fences
// keep the compiler from moving a relaxed operation across the step
// counter's reads (it may: they are other locations), which would move its
// choice point too.
template <class F>
void one_point(const char* what, F op) {
  const std::uint64_t before = steps_now();
  std::atomic_signal_fence(std::memory_order_seq_cst);
  op();
  std::atomic_signal_fence(std::memory_order_seq_cst);
  WEFT_ASSERT_MSG(steps_now() == before + 1,
                  std::string(what) + " made " +
                      std::to_string(steps_now() - before) + " choice points");
}

// The optimizer runs before the instrumentation: an atomic whose address
// never escapes may have its operations folded away (clang -O2 does),
// which no other strand could tell. This one escapes.
template <class T>
void escape(std::atomic<T>& a) {
  asm volatile("" : : "g"(&a) : "memory");
}

template <class T>
void every_operation() {
  std::atomic<T> a{T(5)};
  escape(a);
  one_point("load", [&] { WEFT_ASSERT(a.load() == T(5)); });
  one_point("store", [&] { a.store(T(6)); });
  one_point("exchange", [&] { WEFT_ASSERT(a.exchange(T(7)) == T(6)); });
  one_point("fetch_add", [&] { WEFT_ASSERT(a.fetch_add(T(1)) == T(7)); });
  one_point("fetch_sub", [&] { WEFT_ASSERT(a.fetch_sub(T(2)) == T(8)); });
  one_point("fetch_and", [&] { WEFT_ASSERT(a.fetch_and(T(3)) == T(6)); });
  one_point("fetch_or", [&] { WEFT_ASSERT(a.fetch_or(T(8)) == T(2)); });
  one_point("fetch_xor", [&] { WEFT_ASSERT(a.fetch_xor(T(1)) == T(10)); });
  T expected = T(0);
  one_point("failing compare_exchange_strong",
            [&] { WEFT_ASSERT(!a.compare_exchange_strong(expected, T(1))); });
  WEFT_ASSERT(expected == T(11));
  one_point("compare_exchange_strong",
            [&] { WEFT_ASSERT(a.compare_exchange_strong(expected, T(12))); });
  one_point("compare_exchange_weak", [&] {
    T e = T(12);
    while (!a.compare_exchange_weak(e, T(13))) {
    }
  });
  one_point("relaxed load",
            [&] { WEFT_ASSERT(a.load(std::memory_order_relaxed) == T(13)); });
}

TEST(Hooks, EveryAtomicOperationOfEveryWidthIsOneChoicePoint) {
  const sim::ExploreResult r = sim::explore(quiet_options("random", 3), [] {
    every_operation<std::uint8_t>();
    every_operation<std::uint16_t>();
    every_operation<std::uint32_t>();
    every_operation<std::uint64_t>();
    one_point("fence",
              [] { std::atomic_thread_fence(std::memory_order_seq_cst); });
  });
  EXPECT_FALSE(r.failed()) << r.report;
}

TEST(Hooks, OutsideASimulationAtomicsAreRealOnRealThreads) {
  std::atomic<std::uint64_t> n{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) n.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(n.load(), 40'000u);
}

// Two strands on two different atomics: DPOR sees the addresses, so the
// accesses commute and one schedule covers them; on one atomic they race.
TEST(Hooks, DporSeesWhichAtomicEachOperationTouches) {
  auto program = [](bool same) {
    return [same] {
      std::atomic<int> x{0}, y{0};
      std::atomic<int>& second = same ? x : y;
      auto a = weft::spawn("a", [&] {
        x.store(1);
        x.store(2);
      });
      auto b = weft::spawn("b", [&] {
        second.store(3);
        second.store(4);
      });
      a.join();
      b.join();
    };
  };
  const sim::ExploreResult apart = exhaustive("dpor", -1, program(false));
  const sim::ExploreResult together = exhaustive("dpor", -1, program(true));
  const sim::ExploreResult dfs = exhaustive("dfs", -1, program(false));
  ASSERT_TRUE(apart.exhausted && together.exhausted && dfs.exhausted);
  EXPECT_LT(apart.schedules, together.schedules);
  EXPECT_LT(apart.schedules, dfs.schedules);
}

// A lost update on a plain int: invisible without plain choice points (the
// increment runs alone), found with them. Races are off here so that the
// interleaving, not the detector, is what fails.
void lost_update() {
  int hits = 0;  // written by main first: shared from the strands' access
  auto bump = [&] { hits = hits + 1; };
  auto a = weft::spawn("a", bump);
  auto b = weft::spawn("b", bump);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(hits == 2, "lost an update: hits = " + std::to_string(hits));
}

TEST(Hooks, PlainAccessesToSharedLocationsAreChoicePointsWhenAsked) {
  const sim::instrument::Options saved = sim::instrument::options();
  sim::instrument::set_options(
      {.detect_races = false, .plain_choice_points = false});
  const sim::ExploreResult without = exhaustive("dfs", -1, lost_update);
  sim::instrument::set_options(
      {.detect_races = false, .plain_choice_points = true});
  const sim::ExploreResult with = exhaustive("dfs", -1, lost_update);
  sim::instrument::set_options(saved);
  EXPECT_FALSE(without.failed());
  EXPECT_TRUE(without.exhausted);
  ASSERT_TRUE(with.failed());
  EXPECT_NE(with.failure->message.find("lost an update: hits = 1"),
            std::string::npos);
}

// Release stores in a loop: inlined (INLINE_HOOKS), the hooks' check of
// the scheduler pointer is made once before the loop, not per store.
[[gnu::noinline]] void release_stores(std::atomic<std::uint64_t>& a, int n) {
  for (int i = 0; i < n; ++i)
    a.store(std::uint64_t(i), std::memory_order_release);
}

// The hooks may read the scheduler pointer once per function of the
// program. One function here stores outside, runs a simulation and stores
// outside again, three times over: outside, no choice point is made (a
// stale pointer would call into a finished scheduler); inside, each store
// in the strand's loop is one.
TEST(Hooks,
     AFunctionRunningSimulationsBetweenItsAtomicsMakesChoicePointsOnlyInside) {
  std::atomic<std::uint64_t> a{0};
  escape(a);
  for (int round = 0; round < 3; ++round) {
    release_stores(a, 100);
    const sim::ExploreResult r = sim::explore(quiet_options("random", 2), [&] {
      const std::uint64_t before = steps_now();
      std::atomic_signal_fence(std::memory_order_seq_cst);
      release_stores(a, 10);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      WEFT_ASSERT_MSG(steps_now() == before + 10,
                      "10 stores made " + std::to_string(steps_now() - before) +
                          " choice points");
    });
    EXPECT_FALSE(r.failed()) << r.report;
    EXPECT_EQ(r.schedules, 2u);
    release_stores(a, 100);
  }
  EXPECT_EQ(a.load(), 99u);
}

// weft's facade in the same binary: a weft::Atomic bank keeps its total.
TEST(Hooks, WeftsOwnPrimitivesWorkInTheSameBinary) {
  const sim::ExploreResult r = exhaustive("dfs", 2, [] {
    weft::Atomic<int> alice{100}, bob{100};
    weft::Mutex mu("bank");
    auto pay = [&](weft::Atomic<int>& from, weft::Atomic<int>& to, int n) {
      std::lock_guard lock(mu);
      from.store(from.load() - n);
      to.store(to.load() + n);
    };
    auto a = weft::spawn("a", [&] { pay(alice, bob, 30); });
    auto b = weft::spawn("b", [&] { pay(bob, alice, 20); });
    a.join();
    b.join();
    WEFT_ASSERT(alice.load() + bob.load() == 200);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
}

}  // namespace
}  // namespace weft::test
