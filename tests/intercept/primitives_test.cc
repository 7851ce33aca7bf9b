// Each interposed primitive on strands: the semantics of its pthread kind
// (recursive, error-checking, try, timed), virtual time for sleeps, clocks
// and timeouts, errno kept per strand, and unsupported calls reported.
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>

#include "sim/check.h"
#include "sim/harness/explore.h"
#include "sim/intercept/intercept.h"
#include "tests/intercept/in_process_options.h"

namespace weft::intercept {
namespace {

using sim::ExploreOptions;
using test::options;
using ::testing::HasSubstr;

void expect_pass(const sim::ExploreResult& r) {
  EXPECT_FALSE(r.failed()) << r.report;
}

pthread_t start(void* (*fn)(void*), void* arg = nullptr) {
  pthread_t t;
  EXPECT_EQ(pthread_create(&t, nullptr, fn, arg), 0);
  return t;
}

TEST(InterceptPrimitives, RecursiveMutexRelocksAndErrorCheckingOneSaysEdeadlk) {
  expect_pass(sim::explore(options(20), [] {
    pthread_mutex_t rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    pthread_mutex_t chk = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
    WEFT_ASSERT(pthread_mutex_lock(&rec) == 0);
    WEFT_ASSERT(pthread_mutex_lock(&rec) == 0);
    WEFT_ASSERT(pthread_mutex_unlock(&rec) == 0);
    WEFT_ASSERT(pthread_mutex_unlock(&rec) == 0);
    WEFT_ASSERT(pthread_mutex_unlock(&rec) == EPERM);
    WEFT_ASSERT(pthread_mutex_lock(&chk) == 0);
    WEFT_ASSERT(pthread_mutex_lock(&chk) == EDEADLK);
    WEFT_ASSERT(pthread_mutex_unlock(&chk) == 0);
  }));
}

pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;

TEST(InterceptPrimitives,
     TrylockSeesTheOtherThreadHoldingTheMutexInSomeSchedules) {
  std::set<int> seen;
  ExploreOptions o = options();
  o.strategy = "dfs";
  o.iterations = 10000;
  expect_pass(sim::explore(o, [&seen] {
    pthread_t t = start([](void*) -> void* {
      pthread_mutex_lock(&g_m);
      pthread_mutex_unlock(&g_m);
      return nullptr;
    });
    const int r = pthread_mutex_trylock(&g_m);
    if (r == 0) pthread_mutex_unlock(&g_m);
    seen.insert(r);
    pthread_join(t, nullptr);
  }));
  EXPECT_EQ(seen, (std::set<int>{0, EBUSY}));
}

TEST(InterceptPrimitives, TimedlockTimesOutInVirtualTime) {
  expect_pass(sim::explore(options(50), [] {
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_t t = start([](void*) -> void* {
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      timespec abs = now;
      abs.tv_sec += 1;
      WEFT_ASSERT(pthread_mutex_timedlock(&m, &abs) == ETIMEDOUT);
      timespec after;
      clock_gettime(CLOCK_REALTIME, &after);
      WEFT_ASSERT(after.tv_sec == now.tv_sec + 1);
      return nullptr;
    });
    pthread_join(t, nullptr);
    pthread_mutex_unlock(&m);
  }));
}

// libstdc++ times std::shared_timed_mutex's waits on the steady clock with
// pthread_rwlock_clockwrlock and _clockrdlock, which glibc's own rwlock
// took for real behind the simulation (the unlock was then reported as a
// misuse).
TEST(InterceptPrimitives, SharedTimedMutexWaitsTimeOutInVirtualTime) {
  expect_pass(sim::explore(options(50), [] {
    static std::shared_timed_mutex m;
    m.lock();
    pthread_t t = start([](void*) -> void* {
      const auto t0 = std::chrono::steady_clock::now();
      WEFT_ASSERT(!m.try_lock_for(std::chrono::seconds(3)));
      WEFT_ASSERT(!m.try_lock_shared_for(std::chrono::seconds(2)));
      WEFT_ASSERT(std::chrono::steady_clock::now() - t0 ==
                  std::chrono::seconds(5));
      return nullptr;
    });
    pthread_join(t, nullptr);
    m.unlock();
    WEFT_ASSERT(m.try_lock_shared_for(std::chrono::seconds(1)));
    m.unlock_shared();
  }));
}

// A strand's handle is no pointer to a thread: the functions that take one
// answer for the strand (its name, its own stack) or for the OS thread the
// strands share (affinity, scheduling), instead of reading through it
// (SIGSEGV in libc's).
TEST(InterceptPrimitives, AThreadHandleAnswersForItsStrand) {
  expect_pass(sim::explore(options(5), [] {
    pthread_t t = start([](void*) -> void* {
      char name[16];
      WEFT_ASSERT(pthread_getname_np(pthread_self(), name, sizeof name) == 0);
      WEFT_ASSERT(std::string(name) == "thread-1");
      WEFT_ASSERT(pthread_getname_np(pthread_self(), name, 4) == ERANGE);
      pthread_attr_t attr;
      WEFT_ASSERT(pthread_getattr_np(pthread_self(), &attr) == 0);
      void* bottom = nullptr;
      size_t size = 0;
      pthread_attr_getstack(&attr, &bottom, &size);
      pthread_attr_destroy(&attr);
      const auto here = reinterpret_cast<std::uintptr_t>(&size);
      const auto low = reinterpret_cast<std::uintptr_t>(bottom);
      WEFT_ASSERT(size > 0 && here >= low && here < low + size);
      return nullptr;
    });
    cpu_set_t set;
    CPU_ZERO(&set);
    WEFT_ASSERT(pthread_getaffinity_np(t, sizeof set, &set) == 0);
    WEFT_ASSERT(CPU_COUNT(&set) > 0);
    WEFT_ASSERT(pthread_setaffinity_np(t, sizeof set, &set) == 0);
    int policy = -1;
    sched_param param{};
    WEFT_ASSERT(pthread_getschedparam(t, &policy, &param) == 0);
    WEFT_ASSERT(pthread_setschedparam(t, policy, &param) == 0);
    WEFT_ASSERT(pthread_setschedprio(t, param.sched_priority) == 0);
    pthread_join(t, nullptr);
  }));
}

// pthread_create publishes the new thread's handle before the thread can
// run, as glibc does: a thread that starts at once (dfs takes that branch)
// reads its handle from the creator's variable and detaches itself. The
// handle was stored, and the thread made a thread, only once the creator
// went on (ESRCH from the detach, a garbage handle).
TEST(InterceptPrimitives, AThreadThatRunsAtOnceFindsItselfCreated) {
  static pthread_t handle;
  static sem_t done;
  int first = 0;
  ExploreOptions o = options();
  o.strategy = "dfs";
  o.iterations = 1000;
  expect_pass(sim::explore(o, [&first] {
    static bool child_ran;
    child_ran = false;
    handle = pthread_t{};
    sem_init(&done, 0, 0);
    pthread_create(
        &handle, nullptr,
        [](void*) -> void* {
          child_ran = true;
          WEFT_ASSERT(pthread_equal(handle, pthread_self()));
          WEFT_ASSERT(pthread_detach(pthread_self()) == 0);
          sem_post(&done);
          return nullptr;
        },
        nullptr);
    if (child_ran) ++first;
    sem_wait(&done);
    sem_destroy(&done);
  }));
  EXPECT_GT(first, 0) << "no schedule ran the thread before its creator";
}

// poll and select with no descriptors, the portable sleeps, sleep in
// virtual time like the others (they slept in real time, the virtual
// clock standing still).
TEST(InterceptPrimitives, PollAndSelectWithNoDescriptorsSleepInVirtualTime) {
  const auto real_start = std::chrono::steady_clock::now();
  expect_pass(sim::explore(options(5), [] {
    const auto t0 = std::chrono::steady_clock::now();
    WEFT_ASSERT(poll(nullptr, 0, 1500) == 0);
    timeval tv{2, 500000};
    WEFT_ASSERT(select(0, nullptr, nullptr, nullptr, &tv) == 0);
    WEFT_ASSERT(tv.tv_sec == 0 && tv.tv_usec == 0);
    WEFT_ASSERT(std::chrono::steady_clock::now() - t0 ==
                std::chrono::seconds(4));
  }));
  // Twenty virtual seconds took no real minute.
  EXPECT_LT(std::chrono::steady_clock::now() - real_start,
            std::chrono::minutes(1));
}

TEST(InterceptPrimitives, StdSleepsAndSteadyClockFollowVirtualTime) {
  const auto real_start = std::chrono::steady_clock::now();
  expect_pass(sim::explore(options(5), [] {
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::hours(1));
    usleep(500);
    const auto t1 = std::chrono::steady_clock::now();
    WEFT_ASSERT(t1 - t0 ==
                std::chrono::hours(1) + std::chrono::microseconds(500));
    WEFT_ASSERT(time(nullptr) == kRealtimeBaseSeconds + 3600);
  }));
  // Five virtual hours took no real hour.
  EXPECT_LT(std::chrono::steady_clock::now() - real_start,
            std::chrono::minutes(10));
}

TEST(InterceptPrimitives, CondTimedwaitReturnsEtimedoutAtItsVirtualDeadline) {
  expect_pass(sim::explore(options(50), [] {
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    timespec abs;
    clock_gettime(CLOCK_REALTIME, &abs);
    abs.tv_sec += 2;
    int r = 0;
    while (r == 0) r = pthread_cond_timedwait(&c, &m, &abs);
    WEFT_ASSERT(r == ETIMEDOUT);
    pthread_mutex_unlock(&m);
  }));
}

int g_flag = 0;
pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;

TEST(InterceptPrimitives, ALostWakeUpIsFoundAsADeadlock) {
  const sim::ExploreResult r = sim::explore(options(500), [] {
    g_flag = 0;
    pthread_t t = start([](void*) -> void* {
      g_flag = 1;
      pthread_cond_signal(&g_cond);  // without the mutex, before the wait
      return nullptr;
    });
    pthread_mutex_lock(&g_m);
    if (g_flag == 0) pthread_cond_wait(&g_cond, &g_m);
    pthread_mutex_unlock(&g_m);
    pthread_join(t, nullptr);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message, HasSubstr("pthread condvar#"));
}

TEST(InterceptPrimitives, SemaphoreBarrierRwlockAndOnceKeepTheirContracts) {
  expect_pass(sim::explore(options(300), [] {
    static sem_t sem;
    static pthread_barrier_t barrier;
    static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
    static pthread_once_t once;
    static int inits, serial, writers_inside;
    once = PTHREAD_ONCE_INIT;
    inits = serial = writers_inside = 0;
    sem_init(&sem, 0, 0);
    pthread_barrier_init(&barrier, nullptr, 2);
    auto body = [](void*) -> void* {
      pthread_once(&once, [] { ++inits; });
      if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        ++serial;
      pthread_rwlock_wrlock(&rw);
      WEFT_ASSERT(++writers_inside == 1);
      sched_yield();
      --writers_inside;
      pthread_rwlock_unlock(&rw);
      sem_post(&sem);
      return nullptr;
    };
    pthread_t a = start(body);
    pthread_t b = start(body);
    sem_wait(&sem);
    sem_wait(&sem);
    WEFT_ASSERT(sem_trywait(&sem) == -1 && errno == EAGAIN);
    pthread_join(a, nullptr);
    pthread_join(b, nullptr);
    WEFT_ASSERT(inits == 1 && serial == 1);
    pthread_barrier_destroy(&barrier);
    sem_destroy(&sem);
  }));
}

// libstdc++'s std::call_once hands pthread_once its callable through
// thread-local variables that every strand shares: two strands on two
// flags must each run their own function (a switch before the call ran
// the other flag's, then a null one: a crash), in every schedule.
TEST(InterceptPrimitives, StdCallOnceOnTwoFlagsRunsEachFlagsOwnFunction) {
  expect_pass(sim::explore(options(300), [] {
    static std::once_flag* first;
    static std::once_flag* second;
    static int a, b;
    std::once_flag f1, f2;
    first = &f1;
    second = &f2;
    a = b = 0;
    pthread_t t = start([](void*) -> void* {
      std::call_once(*first, [] { ++a; });
      return nullptr;
    });
    std::call_once(*second, [] { ++b; });
    std::call_once(*first, [] { ++a; });
    pthread_join(t, nullptr);
    WEFT_ASSERT(a == 1 && b == 1);
  }));
}

// A once control or a mutex made where a destroyed one was (placement new
// here; the heap does it for a std::future's shared state) is a new one:
// the side table, which finds objects by address, kept the old one's
// "done" (the function never ran, and a deferred std::future's get()
// waited forever) and its type (a recursive mutex's relock was reported
// as a misuse of a normal one).
TEST(InterceptPrimitives, ANewObjectAtAFreedOnesAddressStartsAfresh) {
  expect_pass(sim::explore(options(20), [] {
    alignas(std::max_align_t) static unsigned char
        place[sizeof(std::recursive_mutex) + sizeof(std::once_flag)];
    for (int round = 0; round < 2; ++round) {
      auto* flag = new (place) std::once_flag;
      int calls = 0;
      std::call_once(*flag, [&calls] { ++calls; });
      WEFT_ASSERT(calls == 1);
      flag->~once_flag();
    }
    auto* plain = new (place) std::mutex;
    plain->lock();
    plain->unlock();
    plain->~mutex();
    auto* recursive = new (place) std::recursive_mutex;
    recursive->lock();
    recursive->lock();
    recursive->unlock();
    recursive->unlock();
    recursive->~recursive_mutex();
  }));
}

// No signal comes in a simulation: sigtimedwait gives EAGAIN at its
// virtual deadline, and a strand left waiting in sigwait, with nothing
// else to run, is a deadlock that names the wait.
TEST(InterceptPrimitives, SignalWaitsWaitInVirtualTimeAndForGood) {
  const auto r = sim::explore(options(5), [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    const auto t0 = std::chrono::steady_clock::now();
    const timespec two{2, 0};
    WEFT_ASSERT(sigtimedwait(&set, nullptr, &two) == -1 && errno == EAGAIN);
    WEFT_ASSERT(std::chrono::steady_clock::now() - t0 ==
                std::chrono::seconds(2));
    int sig = 0;
    sigwait(&set, &sig);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock) << r.report;
  EXPECT_THAT(r.failure->message, HasSubstr("waits to receive a signal"));
}

// glibc does not track an rwlock's readers: a reader that asks to write
// waits for itself forever. The run reports that deadlock (it used to be
// an EDEADLK the program could ignore).
TEST(InterceptPrimitives, AReaderAskingToWriteDeadlocksAsInGlibc) {
  const auto r = sim::explore(options(20), [] {
    static pthread_rwlock_t rw;
    pthread_rwlock_init(&rw, nullptr);
    pthread_rwlock_rdlock(&rw);
    pthread_rwlock_wrlock(&rw);
    pthread_rwlock_unlock(&rw);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
}

TEST(InterceptPrimitives, UnlockingAnRwlockNotHeldIsReported) {
  const auto r = sim::explore(options(20), [] {
    static pthread_rwlock_t rw;
    pthread_rwlock_init(&rw, nullptr);
    pthread_rwlock_unlock(&rw);
  });
  ASSERT_TRUE(r.failed());
  // Said where: the caller of pthread_rwlock_unlock, this test's lambda
  // (or the std::function it is inlined into).
  EXPECT_THAT(r.failure->message, HasSubstr("which it does not hold, at "));
  EXPECT_THAT(
      r.failure->message,
      HasSubstr("InterceptPrimitives_UnlockingAnRwlockNotHeldIsReported_"
                "Test::TestBody()"));
}

TEST(InterceptPrimitives, ErrnoIsKeptPerStrandAcrossSwitches) {
  expect_pass(sim::explore(options(300), [] {
    pthread_t t = start([](void*) -> void* {
      errno = 7;
      sched_yield();
      WEFT_ASSERT(errno == 7);
      return nullptr;
    });
    errno = 3;
    sched_yield();
    pthread_mutex_lock(&g_m);
    pthread_mutex_unlock(&g_m);
    WEFT_ASSERT(errno == 3);
    pthread_join(t, nullptr);
  }));
}

TEST(InterceptPrimitives, JoinReturnsTheThreadsResultAndPthreadExitEndsIt) {
  expect_pass(sim::explore(options(50), [] {
    pthread_t t = start(
        [](void* arg) -> void* {
          pthread_exit(arg);
          return nullptr;
        },
        &g_flag);
    void* result = nullptr;
    WEFT_ASSERT(pthread_join(t, &result) == 0 && result == &g_flag);
    WEFT_ASSERT(pthread_join(t, &result) == EINVAL);
    WEFT_ASSERT(pthread_equal(pthread_self(), pthread_self()));
  }));
}

// The spinning thread is inside sched_yield (declared noexcept by libc)
// when the run is torn down: it is unwound, and the failure reported.
TEST(InterceptPrimitives, AFailureWhileAThreadSpinsOnSchedYieldIsReported) {
  const sim::ExploreResult r = sim::explore(options(20), [] {
    g_flag = 0;
    start([](void*) -> void* {
      while (g_flag == 0) sched_yield();
      return nullptr;
    });
    sched_yield();
    WEFT_ASSERT(g_flag == 1);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message, HasSubstr("g_flag == 1"));
}

TEST(InterceptPrimitives, ForkOnAStrandFailsTheScheduleNamingIt) {
  const sim::ExploreResult r = sim::explore(options(1), [] {
    if (fork() == 0) _exit(0);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message, HasSubstr("called fork"));
}

}  // namespace
}  // namespace weft::intercept
