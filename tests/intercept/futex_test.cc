// The futex system call on strands (sim/intercept/futex.cc): a wait
// compares and blocks, a wake wakes at most the number asked and says how
// many, timeouts run in virtual time, bit masks choose whom a wake takes,
// other operations are reported, and C++20's semaphores, latches,
// barriers, atomic waits and stop tokens, which wait through it, work and
// have their bugs found.
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <latch>
#include <mutex>
#include <semaphore>
#include <set>
#include <stop_token>
#include <thread>

#include "sim/check.h"
#include "sim/harness/explore.h"
#include "sim/intercept/intercept.h"
#include "tests/intercept/in_process_options.h"

namespace weft::intercept::futex_tests {
namespace {

using sim::ExploreOptions;
using test::options;
using ::testing::HasSubstr;

long futex(int* word, int op, int value, const timespec* timeout = nullptr,
           std::uint32_t mask = 0) {
  return syscall(SYS_futex, word, op, value, timeout, nullptr, mask);
}

pthread_t start(void* (*fn)(void*), void* arg = nullptr) {
  pthread_t t;
  EXPECT_EQ(pthread_create(&t, nullptr, fn, arg), 0);
  return t;
}

int g_word = 0;
int g_waiting = 0;

TEST(InterceptFutex, WaitReturnsEagainWhenTheWordHoldsAnotherValue) {
  const sim::ExploreResult r = sim::explore(options(5), [] {
    g_word = 1;
    errno = 0;
    WEFT_ASSERT(futex(&g_word, FUTEX_WAIT_PRIVATE, 0) == -1);
    WEFT_ASSERT(errno == EAGAIN);
  });
  EXPECT_FALSE(r.failed()) << r.report;
}

TEST(InterceptFutex, AWakeWakesAtMostTheNumberAskedAndSaysHowMany) {
  std::set<long> first_wakes;
  ExploreOptions o = options(3000);
  o.strategy = "random";
  const sim::ExploreResult r = sim::explore(o, [&first_wakes] {
    g_word = 0;
    g_waiting = 0;
    pthread_t t[3];
    for (pthread_t& th : t)
      th = start([](void*) -> void* {
        ++g_waiting;
        while (__atomic_load_n(&g_word, __ATOMIC_SEQ_CST) == 0)
          futex(&g_word, FUTEX_WAIT_PRIVATE, 0);
        return nullptr;
      });
    while (g_waiting < 3) sched_yield();
    const long woken = futex(&g_word, FUTEX_WAKE_PRIVATE, 2);
    WEFT_ASSERT(woken >= 0 && woken <= 2);
    first_wakes.insert(woken);
    __atomic_store_n(&g_word, 1, __ATOMIC_SEQ_CST);
    futex(&g_word, FUTEX_WAKE_PRIVATE, INT_MAX);
    for (pthread_t th : t) pthread_join(th, nullptr);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  // A waiter counted but not yet queued is not woken: every count is seen.
  EXPECT_EQ(first_wakes, (std::set<long>{0, 1, 2}));
}

TEST(InterceptFutex, TimedWaitsEndAtTheirVirtualDeadline) {
  const sim::ExploreResult r = sim::explore(options(5), [] {
    using std::chrono::steady_clock;
    g_word = 0;
    const auto start_time = steady_clock::now();
    const timespec five{5, 0};
    errno = 0;
    WEFT_ASSERT(futex(&g_word, FUTEX_WAIT_PRIVATE, 0, &five) == -1);
    WEFT_ASSERT(errno == ETIMEDOUT);
    WEFT_ASSERT(steady_clock::now() - start_time == std::chrono::seconds(5));
    // FUTEX_WAIT_BITSET's timeout is absolute, on the monotonic clock.
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const timespec later{now.tv_sec + 2, now.tv_nsec};
    WEFT_ASSERT(futex(&g_word, FUTEX_WAIT_BITSET_PRIVATE, 0, &later,
                      FUTEX_BITSET_MATCH_ANY) == -1);
    WEFT_ASSERT(errno == ETIMEDOUT);
    WEFT_ASSERT(steady_clock::now() - start_time == std::chrono::seconds(7));
  });
  EXPECT_FALSE(r.failed()) << r.report;
}

int g_woke_mask = 0;

TEST(InterceptFutex, ABitsetWakeTakesOnlyWaitersWhoseMaskMatches) {
  const sim::ExploreResult r = sim::explore(options(300), [] {
    g_word = 0;
    g_woke_mask = 0;
    auto waiter = [](void* mask) -> void* {
      const auto m =
          static_cast<std::uint32_t>(reinterpret_cast<intptr_t>(mask));
      if (futex(&g_word, FUTEX_WAIT_BITSET_PRIVATE, 0, nullptr, m) == 0)
        g_woke_mask |= static_cast<int>(m);
      return nullptr;
    };
    pthread_t a = start(waiter, reinterpret_cast<void*>(1));
    pthread_t b = start(waiter, reinterpret_cast<void*>(2));
    sched_yield();
    const long woken =
        futex(&g_word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, 2);
    WEFT_ASSERT(woken <= 1);
    g_word = 1;  // the waiter not yet queued finds it changed
    futex(&g_word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, nullptr, 1);
    pthread_join(a, nullptr);
    pthread_join(b, nullptr);
    WEFT_ASSERT((g_woke_mask & 2) != 0 || woken == 0);
  });
  EXPECT_FALSE(r.failed()) << r.report;
}

TEST(InterceptFutex, AnOperationOtherThanWaitOrWakeFailsTheScheduleNamingIt) {
  const sim::ExploreResult r = sim::explore(options(1), [] {
    g_word = 0;
    futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message,
              HasSubstr("called futex with an operation other than wait or "
                        "wake, which weft cannot simulate: weft simulates "
                        "only the futex operations FUTEX_WAIT, FUTEX_WAKE"));
}

// The standard library's C++20 waits, all through the futex: each keeps
// its contract in every schedule of a bounded exhaustive search (14
// schedules within 2 preemptions with GCC 12's libstdc++; how many depends
// on the library's spin loops, whose yields are choice points).
TEST(InterceptFutex, StdSemaphoreLatchBarrierAtomicWaitAndStopTokenWork) {
  ExploreOptions o = options(20000);
  o.strategy = "dfs";
  o.max_preemptions = 2;
  const sim::ExploreResult r = sim::explore(o, [] {
    std::counting_semaphore<2> slots(0);
    std::latch started(2);
    std::barrier<> phase(2);
    std::atomic<int> turn{0};
    int shared = 0;
    std::thread t([&] {
      started.count_down();
      shared = 1;
      slots.release();
      phase.arrive_and_wait();
      turn.store(1);
      turn.notify_one();
    });
    started.count_down();
    started.wait();
    slots.acquire();
    WEFT_ASSERT(shared == 1);
    phase.arrive_and_wait();
    turn.wait(0);
    WEFT_ASSERT(turn.load() == 1);
    t.join();
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_TRUE(r.exhausted);
  EXPECT_GT(r.schedules, 1U);
}

// A stop request wakes a condition_variable_any wait through a stop
// callback; the waiter then waits, through a futex, for the callback to
// end on the requesting thread (libstdc++ skips that hand-off while the
// process looks single-threaded, which a run of strands must not).
TEST(InterceptFutex, AStopRequestEndsAConditionWaitAndTheJthreadJoins) {
  const sim::ExploreResult r = sim::explore(options(1000), [] {
    bool woke = false;
    {
      std::jthread stopped([&woke](std::stop_token st) {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        woke = !cv.wait(lock, st, [] { return false; });
      });
      stopped.request_stop();
    }
    WEFT_ASSERT(woke);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(r.schedules, 1000U);
}

// Released before the data is written: found only because a semaphore's
// release (its futex wake) is a choice point.
TEST(InterceptFutex, ASemaphoreReleasedBeforeItsDataIsWrittenIsFound) {
  const sim::ExploreResult r = sim::explore(options(1000), [] {
    std::binary_semaphore ready(0);
    int data = 0;
    std::thread producer([&] {
      ready.release();
      data = 42;
    });
    ready.acquire();
    const int seen = data;
    producer.join();
    WEFT_ASSERT(seen == 42);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message, HasSubstr("seen == 42"));
}

// At the end of the failed run the waiter is torn down inside
// std::latch::wait, which is noexcept: it is parked, not unwound (which
// would be std::terminate).
TEST(InterceptFutex, ALatchNeverCountedDownIsADeadlockNamingTheFutex) {
  const sim::ExploreResult r = sim::explore(options(50), [] {
    std::latch done(2);
    std::thread t([&] { done.count_down(); });
    done.wait();
    t.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message, HasSubstr("be woken through futex#"));
}

}  // namespace
}  // namespace weft::intercept::futex_tests
