// Thread-specific data on strands: each strand has its own values (they
// share one OS thread, whose real values would be shared), destructors run
// when a thread's strand ends, simulated keys do not outlive their run, and
// the calls weft refuses (pthread_kill) fail the schedule naming the call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include "sim/check.h"
#include "sim/harness/explore.h"
#include "tests/intercept/in_process_options.h"

namespace weft::intercept {
namespace {

using sim::ExploreOptions;
using ::testing::HasSubstr;

pthread_key_t g_key;
int g_destroyed = 0;
int g_values[3];

void destroy(void* v) {
  WEFT_ASSERT(v == &g_values[1] || v == &g_values[2]);
  ++g_destroyed;
}

// Sets its own value, lets others run, and checks it still reads it.
void* keeper(void* arg) {
  WEFT_ASSERT(pthread_getspecific(g_key) == nullptr);  // a new thread's
  pthread_setspecific(g_key, arg);
  sched_yield();
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&m);
  pthread_mutex_unlock(&m);
  WEFT_ASSERT(pthread_getspecific(g_key) == arg);
  return nullptr;
}

// 300 schedules of the default portfolio: every interleaving of the two
// threads' set, yield and read that it reaches keeps each value its own.
TEST(InterceptKeys, ValuesArePerStrandAndDestructorsRunWhenAThreadEnds) {
  const sim::ExploreResult r = sim::explore(test::options(300), [] {
    g_destroyed = 0;
    WEFT_ASSERT(pthread_key_create(&g_key, destroy) == 0);
    pthread_setspecific(g_key, &g_values[0]);
    pthread_t a, b;
    pthread_create(&a, nullptr, keeper, &g_values[1]);
    pthread_create(&b, nullptr, keeper, &g_values[2]);
    sched_yield();
    WEFT_ASSERT(pthread_getspecific(g_key) == &g_values[0]);
    pthread_join(a, nullptr);
    pthread_join(b, nullptr);
    WEFT_ASSERT(g_destroyed == 2);  // the threads', not main's
    WEFT_ASSERT(pthread_key_delete(g_key) == 0);
    WEFT_ASSERT(pthread_setspecific(g_key, nullptr) == EINVAL);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(r.schedules, 300u);
}

int g_real_destroyed = 0;
void count_real(void*) { ++g_real_destroyed; }

// A key made before the simulation (a library's, say): the main strand
// starts with its OS thread's value, a thread with none, and setting it
// on a strand leaves the real value alone.
TEST(InterceptKeys, AKeyMadeOutsideTheSimulationIsPerStrandToo) {
  pthread_key_t key;
  ASSERT_EQ(pthread_key_create(&key, count_real), 0);
  int outside = 0, inside = 0;
  pthread_setspecific(key, &outside);
  g_real_destroyed = 0;
  const sim::ExploreResult r = sim::explore(test::options(50), [&] {
    WEFT_ASSERT(pthread_getspecific(key) == &outside);
    pthread_setspecific(key, &inside);
    pthread_t t;
    pthread_create(
        &t, nullptr,
        [](void* k) -> void* {
          const pthread_key_t mine = *static_cast<pthread_key_t*>(k);
          WEFT_ASSERT(pthread_getspecific(mine) == nullptr);
          pthread_setspecific(mine, k);
          return nullptr;
        },
        &key);
    pthread_join(t, nullptr);
    WEFT_ASSERT(pthread_getspecific(key) == &inside);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(pthread_getspecific(key), &outside);
  // Each run's thread, at its end.
  EXPECT_EQ(g_real_destroyed, static_cast<int>(r.schedules));
  EXPECT_GT(r.schedules, 0u);
  pthread_key_delete(key);
}

// More runs than a process has real keys (PTHREAD_KEYS_MAX, 1024), each
// making one: a simulated key lasts for its run only.
TEST(InterceptKeys, KeysMadeOnStrandsDoNotOutliveTheirRun) {
  const sim::ExploreResult r = sim::explore(test::options(1100), [] {
    pthread_key_t key;
    WEFT_ASSERT(pthread_key_create(&key, nullptr) == 0);
    WEFT_ASSERT(pthread_setspecific(key, &key) == 0);
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(r.schedules, 1100u);
}

TEST(InterceptKeys, SignallingAThreadFailsTheScheduleNamingTheCall) {
  const sim::ExploreResult r = sim::explore(test::options(1), [] {
    pthread_t t;
    pthread_create(
        &t, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, nullptr);
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message, HasSubstr("called pthread_kill"));
  EXPECT_THAT(r.failure->message, HasSubstr("cannot simulate"));
}

}  // namespace
}  // namespace weft::intercept
