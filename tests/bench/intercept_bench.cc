// weft::intercept's costs, each beside its baseline in this binary:
//  - an interposed call outside a simulation (pthread_mutex_lock/unlock,
//    clock_gettime) beside the real libc function called through its
//    address (what a PLT call is: one indirect jump);
//  - schedules per second of `weft run` on a small pthread program (two
//    threads incrementing under a mutex, a fork per schedule) beside
//    in-process explore() of the same logic through the interposer.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/check.h"
#include "sim/harness/explore.h"

namespace {

using LockFn = int (*)(pthread_mutex_t*);
using ClockFn = int (*)(clockid_t, timespec*);

void BM_RealMutexLockUnlock(benchmark::State& state) {
  auto lock = reinterpret_cast<LockFn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
  auto unlock =
      reinterpret_cast<LockFn>(dlsym(RTLD_NEXT, "pthread_mutex_unlock"));
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (auto _ : state) {
    lock(&m);
    unlock(&m);
  }
}
BENCHMARK(BM_RealMutexLockUnlock);

void BM_InterposedMutexLockUnlock(benchmark::State& state) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (auto _ : state) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
  }
}
BENCHMARK(BM_InterposedMutexLockUnlock);

void BM_RealClockGettime(benchmark::State& state) {
  auto get = reinterpret_cast<ClockFn>(dlsym(RTLD_NEXT, "clock_gettime"));
  timespec ts;
  for (auto _ : state) {
    get(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_RealClockGettime);

void BM_InterposedClockGettime(benchmark::State& state) {
  timespec ts;
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_InterposedClockGettime);

int g_counter = 0;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void* increment(void*) {
  pthread_mutex_lock(&g_lock);
  g_counter = g_counter + 1;
  pthread_mutex_unlock(&g_lock);
  return nullptr;
}

// The logic of tests/run/programs/lost_update.c (FIXED), in process.
void BM_InProcessExploreSchedules(benchmark::State& state) {
  weft::sim::ExploreOptions o;
  o.use_environment = false;
  o.iterations = 1000;
  o.print = false;
  o.trace_dir.clear();
  o.contain = weft::sim::ExploreOptions::Contain::kOff;
  std::uint64_t schedules = 0;
  for (auto _ : state) {
    const auto r = weft::sim::explore(o, [] {
      g_counter = 0;
      pthread_t a, b;
      pthread_create(&a, nullptr, increment, nullptr);
      pthread_create(&b, nullptr, increment, nullptr);
      pthread_join(a, nullptr);
      pthread_join(b, nullptr);
      WEFT_ASSERT(g_counter == 2);
    });
    schedules += r.schedules;
  }
  state.counters["schedules/s"] = benchmark::Counter(
      static_cast<double>(schedules), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_InProcessExploreSchedules)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// `weft run` of the compiled program, 1000 schedules a command.
void BM_WeftRunSchedules(benchmark::State& state) {
  const std::string command = std::string("WEFT_ITERATIONS=1000 ") + WEFT_BINARY
                              " run -- " WEFT_RUN_PROGRAM " > /dev/null 2>&1";
  std::uint64_t schedules = 0;
  for (auto _ : state) {
    if (std::system(command.c_str()) != 0) {
      state.SkipWithError("weft run failed");
      return;
    }
    schedules += 1000;
  }
  state.counters["schedules/s"] = benchmark::Counter(
      static_cast<double>(schedules), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WeftRunSchedules)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
