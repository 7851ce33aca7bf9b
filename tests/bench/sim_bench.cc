// Scheduler benchmarks, each beside a baseline measured in the same binary:
//  - a choice point that switches strands vs a raw Boost.Context switch;
//  - whole schedules per second (2 strands x 20 lock/unlock) vs the same
//    work on two std::threads;
//  - a simulated hour of sleep_for vs a loop doing the same bookkeeping.
// Run: build/tests/bench/sim_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <memory>
#include <mutex>
#include <thread>

#include "sim/dfs_strategy.h"
#include "sim/dpor_strategy.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "sim/weft.h"

namespace {

namespace ctx = boost::context;
using weft::sim::RunLimits;
using weft::sim::Scheduler;

// Baseline: one resume of a raw fiber = one switch.
void BM_RawFiberSwitch(benchmark::State& state) {
  bool stop = false;
  ctx::fiber f([&stop](ctx::fiber&& back) {
    while (!stop) back = std::move(back).resume();
    return std::move(back);
  });
  for (auto _ : state) {
    f = std::move(f).resume();  // two switches: there and back
  }
  stop = true;
  f = std::move(f).resume();
  state.SetItemsProcessed(state.iterations() * 2);
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RawFiberSwitch);

// Two strands alternate through yield_now(): every choice point switches
// (a yield prefers the other strand), so one iteration = one choice point
// and one switch through the scheduler.
void BM_ChoicePointSwitch(benchmark::State& state) {
  constexpr std::int64_t kPerRun = 1 << 16;
  RunLimits limits;
  limits.max_steps = 1ULL << 40;
  Scheduler sched(limits);
  weft::sim::RandomStrategy strategy;
  std::int64_t done = 0;
  for (auto _ : state) {
    sched.run(strategy, 1, [] {
      auto a = weft::spawn("a", [] {
        for (std::int64_t i = 0; i < kPerRun / 2; ++i) weft::yield_now();
      });
      for (std::int64_t i = 0; i < kPerRun / 2; ++i) weft::yield_now();
      a.join();
    });
    done += kPerRun;
  }
  state.SetItemsProcessed(done);
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(done),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ChoicePointSwitch)->Unit(benchmark::kMillisecond);

// A choice point among two runnable strands where the strategy keeps the
// current one: the cost of deciding without switching.
void BM_ChoicePointNoSwitch(benchmark::State& state) {
  constexpr std::int64_t kPerRun = 1 << 16;
  RunLimits limits;
  limits.max_steps = 1ULL << 40;
  Scheduler sched(limits);
  weft::sim::ScriptStrategy strategy({});  // past the script: stay
  std::int64_t done = 0;
  for (auto _ : state) {
    sched.run(strategy, 1, [] {
      weft::Atomic<int> x{0};
      auto a = weft::spawn("a", [] {});
      for (std::int64_t i = 0; i < kPerRun; ++i) x.store(1);
      a.join();
    });
    done += kPerRun;
  }
  state.SetItemsProcessed(done);
  state.counters["ns_per_choice"] = benchmark::Counter(
      static_cast<double>(done),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ChoicePointNoSwitch)->Unit(benchmark::kMillisecond);

void two_by_twenty() {
  weft::Mutex m;
  int counter = 0;
  auto work = [&] {
    for (int i = 0; i < 20; ++i) {
      m.lock();
      ++counter;
      m.unlock();
    }
  };
  auto a = weft::spawn("a", work);
  auto b = weft::spawn("b", work);
  a.join();
  b.join();
}

template <class S>
void BM_SchedulesPerSecond_2x20Mutex(benchmark::State& state) {
  Scheduler sched(RunLimits{});
  S strategy = [] {
    if constexpr (std::is_same_v<S, weft::sim::PctStrategy>)
      return weft::sim::PctStrategy(3);
    else
      return S{};
  }();
  std::uint64_t seed = 0;
  for (auto _ : state) {
    auto r = sched.run(strategy, seed++, two_by_twenty);
    benchmark::DoNotOptimize(r.schedule.data());
  }
  state.counters["schedules_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_TEMPLATE(BM_SchedulesPerSecond_2x20Mutex, weft::sim::RandomStrategy);
BENCHMARK_TEMPLATE(BM_SchedulesPerSecond_2x20Mutex, weft::sim::PctStrategy);

// The exhaustive searches on the same program, within 2 preemptions, beside
// the walk above: one iteration is one schedule of the search (it replays
// the previous schedule's prefix and branches at its deepest open choice);
// a search that has finished starts again, outside the timing.
template <class S>
void BM_ExhaustiveSchedulesPerSecond_2x20Mutex(benchmark::State& state) {
  Scheduler sched(RunLimits{});
  auto strategy = std::make_unique<S>(2);
  std::uint64_t seed = 0;
  for (auto _ : state) {
    if (strategy->finished()) {
      state.PauseTiming();
      strategy = std::make_unique<S>(2);
      state.ResumeTiming();
    }
    auto r = sched.run(*strategy, seed++, two_by_twenty);
    benchmark::DoNotOptimize(r.schedule.data());
  }
  state.counters["schedules_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_TEMPLATE(BM_ExhaustiveSchedulesPerSecond_2x20Mutex,
                   weft::sim::DfsStrategy);
BENCHMARK_TEMPLATE(BM_ExhaustiveSchedulesPerSecond_2x20Mutex,
                   weft::sim::DporStrategy);

// Baseline: the same 2 x 20 lock/unlock on two real threads.
void BM_Threads_2x20Mutex(benchmark::State& state) {
  for (auto _ : state) {
    std::mutex m;
    int counter = 0;
    auto work = [&] {
      for (int i = 0; i < 20; ++i) {
        std::lock_guard lock(m);
        ++counter;
      }
    };
    std::thread a(work), b(work);
    a.join();
    b.join();
    benchmark::DoNotOptimize(counter);
  }
  state.counters["runs_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Threads_2x20Mutex);

// One simulated hour: 3600 sleeps of a second. Really sleeping would take
// 3600 s; the counter says how many simulated seconds pass per wall second.
void BM_SimulatedHourOfSleep(benchmark::State& state) {
  RunLimits limits;
  limits.max_steps = 1'000'000;
  Scheduler sched(limits);
  weft::sim::RandomStrategy strategy;
  for (auto _ : state) {
    auto r = sched.run(strategy, 1, [] {
      for (int i = 0; i < 3600; ++i) weft::sleep_for(std::chrono::seconds(1));
    });
    benchmark::DoNotOptimize(r.end_time);
  }
  state.counters["sim_seconds_per_wall_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 3600,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulatedHourOfSleep)->Unit(benchmark::kMicrosecond);

// Baseline: the bookkeeping of 3600 deadlines in a raw loop.
void BM_RawLoopHourOfDeadlines(benchmark::State& state) {
  for (auto _ : state) {
    std::chrono::nanoseconds now{0};
    for (int i = 0; i < 3600; ++i) {
      now += std::chrono::seconds(1);
      benchmark::DoNotOptimize(now);
    }
  }
  state.counters["sim_seconds_per_wall_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 3600,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RawLoopHourOfDeadlines)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
