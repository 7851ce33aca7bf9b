#include "sim/sync.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdlib>
#include <thread>

#include "sim/harness/gtest.h"
#include "sim/harness/rapidcheck.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

using ::testing::HasSubstr;

// --- the lost update -------------------------------------------------------

// Two strands increment a counter by load-then-store.
void lost_update() {
  Atomic<int> counter{0};
  auto increment = [&] { counter.store(counter.load() + 1); };
  auto a = spawn("a", increment);
  auto b = spawn("b", increment);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(counter.load() == 2, "lost update");
}

void counter_with_fetch_add() {
  Atomic<int> counter{0};
  auto increment = [&] { counter.fetch_add(1); };
  auto a = spawn("a", increment);
  auto b = spawn("b", increment);
  a.join();
  b.join();
  WEFT_ASSERT(counter.load() == 2);
}

void counter_under_mutex() {
  Mutex m("counter");
  Atomic<int> counter{0};
  auto increment = [&] {
    std::lock_guard lock(m);
    counter.store(counter.load() + 1);
  };
  auto a = spawn("a", increment);
  auto b = spawn("b", increment);
  a.join();
  b.join();
  WEFT_ASSERT(counter.load() == 2);
}

ExploreOptions options(const char* strategy, std::uint64_t iterations) {
  ExploreOptions o;
  o.strategy = strategy;
  o.iterations = iterations;
  // The environment still applies (as for any weft test), so the replay
  // commands these tests print work when pasted.
  return o;
}

TEST(LostUpdate, RandomWalkFindsItWithin20Schedules) {
  auto r = weft::testing::find_failure(options("random", 20), lost_update);
  ASSERT_TRUE(r.failed()) << "random walk missed the lost update";
  EXPECT_LE(r.schedules, 20u);
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
  EXPECT_THAT(r.failure->message, HasSubstr("lost update"));
}

TEST(LostUpdate, PctFindsItWithin20Schedules) {
  auto r = weft::testing::find_failure(options("pct", 20), lost_update);
  ASSERT_TRUE(r.failed()) << "PCT missed the lost update";
  EXPECT_LE(r.schedules, 20u);
  EXPECT_THAT(r.failure->message, HasSubstr("lost update"));
}

TEST(LostUpdate, ThePrintedSeedAndStrategyReplayTheSameSchedule) {
  auto found = weft::testing::find_failure(options("pct", 50), lost_update);
  ASSERT_TRUE(found.failed());
  EXPECT_THAT(found.replay_command,
              HasSubstr("WEFT_SEED=" + std::to_string(found.seed)));
  EXPECT_THAT(found.report, HasSubstr(found.replay_command));
  // Apply the command's WEFT_* assignments and run again.
  std::istringstream words(found.replay_command);
  std::string word;
  std::vector<std::string> set;
  while (words >> word && word.rfind("WEFT_", 0) == 0) {
    const auto eq = word.find('=');
    setenv(word.substr(0, eq).c_str(), word.substr(eq + 1).c_str(), 1);
    set.push_back(word.substr(0, eq));
  }
  ExploreOptions o;  // defaults: the environment decides
  o.print = false;
  auto again = weft::testing::find_failure(o, lost_update);
  for (const auto& name : set) unsetenv(name.c_str());
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.schedules, 1u);
  EXPECT_EQ(again.seed, found.seed);
  EXPECT_EQ(again.digest, found.digest);
}

TEST(LostUpdate, FetchAddVersionPasses2000SchedulesOfEachStrategy) {
  for (const char* s : {"random", "pct"}) {
    auto r = weft::testing::explore(options(s, 2000), counter_with_fetch_add);
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.schedules, 2000u) << s;
  }
}

TEST(LostUpdate, MutexVersionPasses2000SchedulesOfEachStrategy) {
  for (const char* s : {"random", "pct"}) {
    auto r = weft::testing::explore(options(s, 2000), counter_under_mutex);
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.schedules, 2000u) << s;
  }
}

// RapidCheck drives the schedule as data and shrinks the failing one. The
// property is checked with a fixed seed and a silent listener, so the test
// is deterministic and the expected failure does not end up in RapidCheck's
// exit-time "properties had failures" list.
class SilentListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&,
                      const rc::detail::TestResult&) override {}
};

TEST(LostUpdate, RapidCheckFindsAndShrinksAFailingSchedule) {
  static weft::testing::ScheduleScript smallest;
  static bool failed_once = false;
  failed_once = false;
  rc::detail::TestParams params;
  params.seed = 20261122;
  SilentListener listener;
  const auto result = rc::detail::checkTestable(
      [](weft::testing::ScheduleScript s) {
        const auto r = weft::testing::run_script(s, lost_update);
        if (r.failed()) {
          failed_once = true;
          smallest = s;  // RapidCheck ends on its smallest failing input
        }
        RC_ASSERT(!r.failed());
      },
      rc::detail::TestMetadata{}, params, listener);
  rc::detail::FailureResult failure;
  EXPECT_TRUE(result.match(failure))
      << "RapidCheck did not find the lost update";
  ASSERT_TRUE(failed_once);
  // Shrunk to a handful of choices: the two preemptions that matter.
  EXPECT_LE(smallest.choices.size(), 6u);
  EXPECT_TRUE(weft::testing::run_script(smallest, lost_update).failed());
}

// --- ABBA ------------------------------------------------------------------

void abba(bool same_order) {
  Mutex first("first"), second("second");
  auto one = spawn("one", [&] {
    std::lock_guard a(first);
    std::lock_guard b(second);
  });
  auto two = spawn("two", [&] {
    if (same_order) {
      std::lock_guard a(first);
      std::lock_guard b(second);
    } else {
      std::lock_guard b(second);
      std::lock_guard a(first);
    }
  });
  one.join();
  two.join();
}

TEST(AbbaDeadlock, RandomWalkFindsItWithin50Schedules) {
  auto r =
      weft::testing::find_failure(options("random", 50), [] { abba(false); });
  ASSERT_TRUE(r.failed()) << "random walk missed the ABBA deadlock";
  EXPECT_EQ(r.failure->kind, FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message, HasSubstr("waits to lock mutex 'first'"));
  EXPECT_THAT(r.failure->message, HasSubstr("waits to lock mutex 'second'"));
}

TEST(AbbaDeadlock, PctFindsItWithin50Schedules) {
  auto r = weft::testing::find_failure(options("pct", 50), [] { abba(false); });
  ASSERT_TRUE(r.failed()) << "PCT missed the ABBA deadlock";
  EXPECT_EQ(r.failure->kind, FailureKind::kDeadlock);
}

TEST(AbbaDeadlock, SameOrderVersionPasses2000SchedulesOfEachStrategy) {
  for (const char* s : {"random", "pct"}) {
    auto r = weft::testing::explore(options(s, 2000), [] { abba(true); });
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(r.schedules, 2000u) << s;
  }
}

// --- misuse ------------------------------------------------------------------

TEST(Mutex, RelockingOneHeldByTheSameStrandFailsTheSchedule) {
  auto r = weft::testing::find_failure(options("random", 1), [] {
    Mutex m("m");
    m.lock();
    m.lock();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message, HasSubstr("locked mutex 'm' again"));
}

TEST(Mutex, UnlockingOneNotHeldFailsTheSchedule) {
  auto r = weft::testing::find_failure(options("random", 1),
                                       [] { Mutex("m").unlock(); });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message,
              HasSubstr("which it does not hold, at " __FILE__ ":"));
}

TEST(CondVar, WaitingWithoutHoldingTheMutexFailsTheScheduleSayingWhere) {
  auto r = weft::testing::find_failure(options("random", 1), [] {
    Mutex m("m");
    CondVar cv("c");
    std::unique_lock lock(m, std::defer_lock);
    cv.wait(lock);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message,
              HasSubstr("waited on condvar 'c' with mutex 'm', which it does "
                        "not hold, at " __FILE__ ":"));
}

TEST(CondVar, WaitingForATimeOnALockWithNoMutexFailsTheSchedule) {
  auto r = weft::testing::find_failure(options("random", 1), [] {
    CondVar cv("c");
    std::unique_lock<Mutex> lock;
    cv.wait_for(lock, std::chrono::seconds(1));
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message,
              HasSubstr("waited on condvar 'c' with a lock that has no mutex"));
}

// --- condition variables ----------------------------------------------------

// A consumer that checks its condition with `if` instead of `while` is
// broken by a spurious wake-up, which weft offers as a choice.
void consumer_with_if(bool use_while) {
  Mutex m("queue");
  CondVar cv("not-empty");
  int items = 0;
  auto consumer = spawn("consumer", [&] {
    std::unique_lock lock(m);
    if (use_while) {
      while (items == 0) cv.wait(lock);
    } else if (items == 0) {
      cv.wait(lock);
    }
    WEFT_ASSERT_MSG(items > 0, "consumed from an empty queue");
    --items;
  });
  auto producer = spawn("producer", [&] {
    std::lock_guard lock(m);
    ++items;
    cv.notify_one();
  });
  consumer.join();
  producer.join();
}

TEST(CondVar, SpuriousWakeupBreaksAnIfGuardedWait) {
  auto r = weft::testing::find_failure(options("random", 200),
                                       [] { consumer_with_if(false); });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message, HasSubstr("consumed from an empty queue"));
}

TEST(CondVar, WhileGuardedWaitPasses2000Schedules) {
  auto r = weft::testing::explore(options("portfolio", 2000),
                                  [] { consumer_with_if(true); });
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.schedules, 2000u);
}

TEST(CondVar, WaitForTimesOutAtTheVirtualDeadline) {
  auto r = weft::testing::explore(options("random", 50), [] {
    Mutex m;
    CondVar cv;
    std::unique_lock lock(m);
    const auto start = Clock::now();
    const auto status = cv.wait_for(lock, std::chrono::seconds(5));
    EXPECT_EQ(status, std::cv_status::timeout);
    EXPECT_EQ(Clock::now() - start, std::chrono::seconds(5));
  });
  EXPECT_FALSE(r.failed());
}

// --- semaphores and latches
// ---------------------------------------------------

TEST(Semaphore, NeverAdmitsMoreThanItsCount) {
  auto r = weft::testing::explore(options("portfolio", 500), [] {
    Semaphore slots(2, "slots");
    Atomic<int> inside{0};
    std::vector<JoinHandle> strands;
    for (int i = 0; i < 4; ++i) {
      strands.push_back(spawn([&] {
        slots.acquire();
        WEFT_ASSERT(inside.fetch_add(1) < 2);
        inside.fetch_sub(1);
        slots.release();
      }));
    }
    for (auto& s : strands) s.join();
  });
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.schedules, 500u);
}

TEST(Latch, ReleasesWaitersOnlyWhenEveryArrivalHappened) {
  auto r = weft::testing::explore(options("portfolio", 500), [] {
    Latch done(3, "done");
    Atomic<int> arrived{0};
    std::vector<JoinHandle> strands;
    for (int i = 0; i < 3; ++i) {
      strands.push_back(spawn([&] {
        arrived.fetch_add(1);
        done.count_down();
      }));
    }
    done.wait();
    WEFT_ASSERT(arrived.load() == 3);
    for (auto& s : strands) s.join();
  });
  EXPECT_FALSE(r.failed());
}

// --- the same code on real threads -------------------------------------------

TEST(RealThreads, PrimitivesAreTheStdOnesOutsideASimulation) {
  ASSERT_EQ(Scheduler::current(), nullptr);
  Mutex m;
  CondVar cv;
  Semaphore sem(0);
  Latch latch(4);
  long counter = 0;
  std::vector<JoinHandle> threads;
  for (int t = 0; t < 4; ++t) {
    threads.push_back(spawn([&] {
      for (int i = 0; i < 10000; ++i) {
        std::lock_guard lock(m);
        ++counter;
      }
      latch.count_down();
      sem.release();
    }));
  }
  latch.wait();
  for (int t = 0; t < 4; ++t) sem.acquire();
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 40000);
  std::unique_lock lock(m);
  EXPECT_EQ(cv.wait_for(lock, std::chrono::milliseconds(1)),
            std::cv_status::timeout);
}

}  // namespace
}  // namespace weft::sim
