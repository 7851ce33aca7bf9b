// Instrumented code (weft_instrument, sim/instrument/), each beside a
// baseline in the same binary: a std::atomic operation outside a
// simulation, instrumented against plain (the hook is one thread-local
// check and the operation), and choice points per second inside one, an
// instrumented std::atomic against weft's own weft::Atomic. This file is
// compiled with -fsanitize=thread; the baselines are in
// instrument_bench_plain.cc, compiled without it.
#include "tests/bench/instrument_bench.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

namespace {

// A global that is also read, so the optimizer (which runs before the
// instrumentation) keeps every operation on it.
std::atomic<std::uint64_t> g_word{0};

// --- outside a simulation ------------------------------------------------

void BM_FetchAdd_Instrumented(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_word.fetch_add(1));
}
BENCHMARK(BM_FetchAdd_Instrumented);

void BM_LoadAcquire_Instrumented(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(g_word.load(std::memory_order_acquire));
}
BENCHMARK(BM_LoadAcquire_Instrumented);

void BM_LoadRelaxed_Instrumented(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(g_word.load(std::memory_order_relaxed));
}
BENCHMARK(BM_LoadRelaxed_Instrumented);

void BM_StoreRelease_Instrumented(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) g_word.store(++i, std::memory_order_release);
}
BENCHMARK(BM_StoreRelease_Instrumented);

void BM_StoreSeqCst_Instrumented(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) g_word.store(++i);
}
BENCHMARK(BM_StoreSeqCst_Instrumented);

void BM_CompareExchange_Instrumented(benchmark::State& state) {
  std::uint64_t expected = g_word.load();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        g_word.compare_exchange_strong(expected, expected + 1));
}
BENCHMARK(BM_CompareExchange_Instrumented);

// --- inside a simulation -------------------------------------------------

void BM_ChoicePoints_InstrumentedStdAtomic(benchmark::State& state) {
  weft::bench::choice_points(state, [] {
    auto a = weft::spawn("a", [] {});
    for (std::int64_t i = 0; i < weft::bench::kPerRun; ++i) g_word.store(1);
    a.join();
  });
}
BENCHMARK(BM_ChoicePoints_InstrumentedStdAtomic)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
