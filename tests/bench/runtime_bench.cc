// Reactor benchmarks, each beside a baseline in the same binary:
//  - call_in_thread round trip on real threads (reactor -> pool -> back
//    to the reactor with call_from_thread) vs a ping-pong between two
//    std::threads over two mutex+condvar queues;
//  - call_in_thread throughput (many jobs at once on a pool of 4) vs a
//    plain pool of 4 std::threads with a shared queue;
//  - the same round trips simulated: reactor operations per second of
//    wall time under the scheduler.
// Run: build-release/tests/bench/runtime_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/reactor.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "tests/bench/plain_queue.h"
#include "tests/bench/simulated_runs.h"

namespace {

using weft::bench::PlainQueue;
using weft::runtime::Reactor;

// N round trips, each started by the previous one's arrival back on the
// reactor thread.
void round_trips(Reactor& r, int n) {
  int left = n;
  std::function<void()> next = [&] {
    if (left-- == 0) {
      r.stop();
      return;
    }
    r.call_in_thread([&] { r.call_from_thread(next); });
  };
  r.call_from_thread(next);
  r.run();
}

constexpr int kTrips = 2000;

void BM_CallInThreadRoundTrip(benchmark::State& state) {
  for (auto _ : state) {
    Reactor r;
    round_trips(r, kTrips);
  }
  state.SetItemsProcessed(state.iterations() * kTrips);
}
BENCHMARK(BM_CallInThreadRoundTrip)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Baseline: the same ping-pong between a "reactor" thread and one worker
// std::thread (created per run, as the reactor's pool is).
void BM_PlainThreadRoundTrip(benchmark::State& state) {
  for (auto _ : state) weft::bench::plain_round_trips(kTrips);
  state.SetItemsProcessed(state.iterations() * kTrips);
}
BENCHMARK(BM_PlainThreadRoundTrip)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

constexpr int kJobs = 20000;

void BM_CallInThreadThroughput(benchmark::State& state) {
  for (auto _ : state) {
    Reactor r;
    r.suggest_thread_pool_size(4);
    int done = 0;
    r.call_from_thread([&] {
      for (int i = 0; i < kJobs; ++i)
        r.call_in_thread([&] {
          r.call_from_thread([&] {
            if (++done == kJobs) r.stop();
          });
        });
    });
    r.run();
  }
  state.SetItemsProcessed(state.iterations() * kJobs);
}
BENCHMARK(BM_CallInThreadThroughput)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Baseline: 4 std::threads on one shared queue, results counted back on
// the main thread through a second queue.
void BM_PlainPoolThroughput(benchmark::State& state) {
  for (auto _ : state) {
    PlainQueue jobs, results;
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t)
      pool.emplace_back([&] {
        for (;;) {
          auto f = jobs.pop();
          if (!f) return;
          f();
        }
      });
    for (int i = 0; i < kJobs; ++i) jobs.push([&] { results.push([] {}); });
    for (int i = 0; i < kJobs; ++i) results.pop()();
    for (int t = 0; t < 4; ++t) jobs.push(nullptr);
    for (auto& t : pool) t.join();
  }
  state.SetItemsProcessed(state.iterations() * kJobs);
}
BENCHMARK(BM_PlainPoolThroughput)->Unit(benchmark::kMillisecond)->UseRealTime();

// Simulated: the same round trips, every hand-off a scheduler choice.
void BM_SimulatedRoundTrip(benchmark::State& state) {
  weft::bench::simulated_runs(
      state,
      [] {
        Reactor r;
        round_trips(r, kTrips);
      },
      kTrips, "choice_points_per_trip");
}
BENCHMARK(BM_SimulatedRoundTrip)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
