// SharedMutex, Barrier, call_once and the predicate forms of the timed
// condition-variable waits: each claim is checked over every schedule
// with at most two preemptions (dfs) inside a simulation and once on real
// threads.
#include <gtest/gtest.h>

#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sim/harness/gtest.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

using namespace std::chrono_literals;

ExploreOptions every_schedule() {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 2;
  o.iterations = 100000;
  o.use_environment = false;
  o.trace_dir.clear();
  // Some tests read what the bodies saw, so the schedules run in this
  // process.
  o.contain = ExploreOptions::Contain::kOff;
  return o;
}

// For bodies that must fail: the failure is the expected result.
ExploreResult explore_expecting_failure(void (*body)()) {
  ExploreOptions o = every_schedule();
  o.print = false;
  return explore(o, body);
}

ExploreResult expect_exhausted_pass(void (*body)()) {
  const ExploreResult r = weft::testing::explore(every_schedule(), body);
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted) << "covered " << r.schedules << " schedules";
  EXPECT_GT(r.schedules, 1u);
  return r;
}

// Two readers and a writer: nobody reads while the writer writes, and the
// readers may hold the lock together.
void readers_and_a_writer() {
  SharedMutex rw("table");
  Atomic<int> readers{0}, writers{0};
  Atomic<bool> shared_seen{false};
  auto read = [&] {
    std::shared_lock lk(rw);
    if (readers.fetch_add(1) == 1) shared_seen.store(true);
    WEFT_ASSERT(writers.load() == 0);
    readers.fetch_sub(1);
  };
  auto r1 = spawn("r1", read);
  auto r2 = spawn("r2", read);
  {
    std::lock_guard lk(rw);
    writers.fetch_add(1);
    WEFT_ASSERT(readers.load() == 0);
    writers.fetch_sub(1);
  }
  r1.join();
  r2.join();
}

TEST(SharedMutex, ExcludesReadersFromTheWriterInEverySchedule) {
  expect_exhausted_pass(readers_and_a_writer);
}

bool g_readers_overlapped = false;
void two_readers_meet() {
  SharedMutex rw("table");
  Atomic<int> inside{0};
  auto read = [&] {
    std::shared_lock lk(rw);
    if (inside.fetch_add(1) == 1) g_readers_overlapped = true;
    inside.fetch_sub(1);
  };
  auto a = spawn("a", read);
  auto b = spawn("b", read);
  a.join();
  b.join();
}

TEST(SharedMutex, LetsReadersHoldItTogetherInSomeSchedule) {
  g_readers_overlapped = false;
  expect_exhausted_pass(two_readers_meet);
  EXPECT_TRUE(g_readers_overlapped);
}

// Read-modify-write under a shared lock loses an update: found.
void update_under_shared_lock() {
  SharedMutex rw("counter");
  Atomic<int> n{0};
  auto bump = [&] {
    std::shared_lock lk(rw);
    n.store(n.load() + 1);
  };
  auto a = spawn("a", bump);
  auto b = spawn("b", bump);
  a.join();
  b.join();
  WEFT_ASSERT(n.load() == 2);
}

TEST(SharedMutex, AnUpdateUnderASharedLockIsFoundLost) {
  const ExploreResult r = explore_expecting_failure(update_under_shared_lock);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
}

// A writer waiting for a reader that waits for the writer: a deadlock that
// names the shared mutex.
void reader_waits_for_writer() {
  SharedMutex rw("table");
  std::shared_lock lk(rw);
  auto w = spawn("writer", [&] { std::lock_guard g(rw); });
  w.join();
}

TEST(SharedMutex, ADeadlockNamesTheSharedMutexAndItsHolders) {
  const ExploreResult r = explore_expecting_failure(reader_waits_for_writer);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kDeadlock);
  EXPECT_NE(r.failure->message.find("shared mutex 'table' held by 1 reader"),
            std::string::npos)
      << r.failure->message;
}

// Three strands, two phases: nobody passes a phase before all arrived, and
// the completion runs once per phase, before anyone goes on.
void three_strands_two_phases() {
  Atomic<int> arrived{0}, completions{0};
  Barrier barrier(
      3, [&]() noexcept { completions.fetch_add(1); }, "phase");
  auto work = [&] {
    for (int phase = 1; phase <= 2; ++phase) {
      arrived.fetch_add(1);
      barrier.arrive_and_wait();
      WEFT_ASSERT(arrived.load() >= 3 * phase);
      WEFT_ASSERT(completions.load() >= phase);
    }
  };
  auto a = spawn("a", work);
  auto b = spawn("b", work);
  work();
  a.join();
  b.join();
  WEFT_ASSERT(completions.load() == 2);
}

TEST(Barrier, ReleasesAPhaseOnlyWhenAllArrivedInEverySchedule) {
  // Every wait loops on its phase, so spurious wake-ups change no outcome
  // here and only multiply the tree.
  ExploreOptions o = every_schedule();
  o.limits.spurious_wakeups = false;
  o.preemption_bound = 1;
  const ExploreResult r = weft::testing::explore(o, three_strands_two_phases);
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
  EXPECT_GT(r.schedules, 10u);
}

void dropping_participant() {
  Barrier barrier(2, NoCompletion{}, "pair");
  auto leaver = spawn("leaver", [&] { barrier.arrive_and_drop(); });
  barrier.arrive_and_wait();  // phase 1: the leaver's arrival counts
  barrier.arrive_and_wait();  // phase 2: only this strand is expected
  leaver.join();
}

TEST(Barrier, ArriveAndDropLowersTheCountOfLaterPhases) {
  // As above: without spurious wake-ups, which only multiply the tree.
  ExploreOptions o = every_schedule();
  o.limits.spurious_wakeups = false;
  const ExploreResult r = weft::testing::explore(o, dropping_participant);
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted) << "covered " << r.schedules << " schedules";
}

int g_once_calls = 0;
void three_callers_of_once() {
  OnceFlag flag;
  Atomic<int> calls{0};
  auto init = [&] {
    call_once(flag, [&] { calls.fetch_add(1); });
    WEFT_ASSERT(calls.load() == 1);  // done before anyone returns
  };
  auto a = spawn("a", init);
  auto b = spawn("b", init);
  init();
  a.join();
  b.join();
  g_once_calls = calls.load();
}

TEST(CallOnce, RunsTheFunctionOnceAndEveryCallerSeesItDone) {
  expect_exhausted_pass(three_callers_of_once);
  EXPECT_EQ(g_once_calls, 1);
}

void once_after_a_throw() {
  OnceFlag flag;
  int calls = 0;
  try {
    call_once(flag, [&] {
      ++calls;
      throw std::runtime_error("first try fails");
    });
  } catch (const std::runtime_error&) {
  }
  call_once(flag, [&] { ++calls; });
  call_once(flag, [&] { ++calls; });
  WEFT_ASSERT(calls == 2);
}

TEST(CallOnce, AThrowLeavesTheFlagUnsetForTheNextCaller) {
  const ExploreResult r =
      weft::testing::explore(every_schedule(), once_after_a_throw);
  EXPECT_FALSE(r.failed()) << r.report;
}

void timed_waits_with_predicates() {
  Mutex m("m");
  CondVar cv("cv");
  bool ready = false;
  auto setter = spawn("setter", [&] {
    sleep_for(5ms);
    std::lock_guard lk(m);
    ready = true;
    cv.notify_all();
  });
  std::unique_lock lk(m);
  // Times out at 2ms with the predicate still false...
  WEFT_ASSERT(!cv.wait_for(lk, 2ms, [&] { return ready; }));
  WEFT_ASSERT(Clock::now().time_since_epoch() >= 2ms);
  // ...and returns true once the setter ran, well before 1s.
  WEFT_ASSERT(cv.wait_until(lk, Clock::now() + 1s, [&] { return ready; }));
  WEFT_ASSERT(Clock::now().time_since_epoch() < 1s);
  lk.unlock();
  setter.join();
}

TEST(CondVar, PredicateTimedWaitsReturnThePredicateAtTheDeadline) {
  expect_exhausted_pass(timed_waits_with_predicates);
}

TEST(RealThreads, SharedMutexBarrierAndCallOnceWorkOutsideASimulation) {
  SharedMutex rw;
  Barrier barrier(4);
  OnceFlag flag;
  std::atomic<int> once{0}, sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      call_once(flag, [&] { once.fetch_add(1); });
      barrier.arrive_and_wait();
      for (int i = 0; i < 1000; ++i) {
        std::lock_guard lk(rw);
        sum.store(sum.load() + 1);
      }
      std::shared_lock lk(rw);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(once.load(), 1);
  EXPECT_EQ(sum.load(), 4000);
}

}  // namespace
}  // namespace weft::sim
