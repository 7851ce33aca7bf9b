// Instrumented code (weft_instrument, sim/instrument/), each beside a
// baseline in the same binary: a std::atomic operation outside a
// simulation, instrumented against plain (the hook is one thread-local
// check and the operation), and choice points per second inside one, an
// instrumented std::atomic against weft's own weft::Atomic. This file is
// compiled with -fsanitize=thread; the baselines are marked no_sanitize.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "sim/weft.h"

namespace {

#define WEFT_PLAIN_CODE __attribute__((no_sanitize("thread")))

std::atomic<std::uint64_t> g_word{0};

// --- outside a simulation ------------------------------------------------

void BM_FetchAdd_Instrumented(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_word.fetch_add(1));
}
BENCHMARK(BM_FetchAdd_Instrumented);

WEFT_PLAIN_CODE void BM_FetchAdd_Plain(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_word.fetch_add(1));
}
BENCHMARK(BM_FetchAdd_Plain);

void BM_LoadAcquire_Instrumented(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(g_word.load(std::memory_order_acquire));
}
BENCHMARK(BM_LoadAcquire_Instrumented);

WEFT_PLAIN_CODE void BM_LoadAcquire_Plain(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(g_word.load(std::memory_order_acquire));
}
BENCHMARK(BM_LoadAcquire_Plain);

void BM_StoreSeqCst_Instrumented(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) g_word.store(++i);
}
BENCHMARK(BM_StoreSeqCst_Instrumented);

WEFT_PLAIN_CODE void BM_StoreSeqCst_Plain(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) g_word.store(++i);
}
BENCHMARK(BM_StoreSeqCst_Plain);

void BM_CompareExchange_Instrumented(benchmark::State& state) {
  std::uint64_t expected = g_word.load();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        g_word.compare_exchange_strong(expected, expected + 1));
}
BENCHMARK(BM_CompareExchange_Instrumented);

WEFT_PLAIN_CODE void BM_CompareExchange_Plain(benchmark::State& state) {
  std::uint64_t expected = g_word.load();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        g_word.compare_exchange_strong(expected, expected + 1));
}
BENCHMARK(BM_CompareExchange_Plain);

// --- inside a simulation -------------------------------------------------
// Two strands alive, the strategy keeps the running one (as sim_bench's
// BM_ChoicePointNoSwitch): the cost of one atomic choice point.
constexpr std::int64_t kPerRun = 1 << 16;

template <class Body>
void choice_points(benchmark::State& state, Body body) {
  weft::sim::RunLimits limits;
  limits.max_steps = 1ULL << 40;
  weft::sim::Scheduler sched(limits);
  weft::sim::ScriptStrategy strategy({});  // past the script: stay
  std::int64_t done = 0;
  for (auto _ : state) {
    sched.run(strategy, 1, body);
    done += kPerRun;
  }
  state.SetItemsProcessed(done);
  state.counters["choice_points_per_s"] = benchmark::Counter(
      static_cast<double>(done), benchmark::Counter::kIsRate);
}

void BM_ChoicePoints_InstrumentedStdAtomic(benchmark::State& state) {
  choice_points(state, [] {
    std::atomic<int> x{0};
    auto a = weft::spawn("a", [] {});
    for (std::int64_t i = 0; i < kPerRun; ++i) x.store(1);
    a.join();
  });
}
BENCHMARK(BM_ChoicePoints_InstrumentedStdAtomic)->Unit(benchmark::kMillisecond);

WEFT_PLAIN_CODE void BM_ChoicePoints_WeftAtomic(benchmark::State& state) {
  choice_points(state, [] {
    weft::Atomic<int> x{0};
    auto a = weft::spawn("a", [] {});
    for (std::int64_t i = 0; i < kPerRun; ++i) x.store(1);
    a.join();
  });
}
BENCHMARK(BM_ChoicePoints_WeftAtomic)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
