// instrument_bench's baselines, compiled without -fsanitize=thread (see
// tests/bench/CMakeLists.txt): the same std::atomic operations inlined as
// the compiler emits them, and weft's own weft::Atomic as a choice point.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "tests/bench/instrument_bench.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#error "instrument_bench_plain.cc must be compiled without -fsanitize=thread"
#endif
#endif

namespace {

std::atomic<std::uint64_t> g_word{0};

void BM_FetchAdd_Plain(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(g_word.fetch_add(1));
}
BENCHMARK(BM_FetchAdd_Plain);

void BM_LoadAcquire_Plain(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(g_word.load(std::memory_order_acquire));
}
BENCHMARK(BM_LoadAcquire_Plain);

// The floor for any hook: the same load in a function the compiler may
// not inline, which is how the instrumentation calls its hooks.
[[gnu::noinline]] std::uint64_t load_out_of_line(
    const std::atomic<std::uint64_t>& a) {
  return a.load(std::memory_order_acquire);
}

void BM_LoadAcquire_OutOfLineCall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(load_out_of_line(g_word));
}
BENCHMARK(BM_LoadAcquire_OutOfLineCall);

void BM_LoadRelaxed_Plain(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(g_word.load(std::memory_order_relaxed));
}
BENCHMARK(BM_LoadRelaxed_Plain);

void BM_StoreRelease_Plain(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) g_word.store(++i, std::memory_order_release);
}
BENCHMARK(BM_StoreRelease_Plain);

void BM_StoreSeqCst_Plain(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) g_word.store(++i);
}
BENCHMARK(BM_StoreSeqCst_Plain);

void BM_CompareExchange_Plain(benchmark::State& state) {
  std::uint64_t expected = g_word.load();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        g_word.compare_exchange_strong(expected, expected + 1));
}
BENCHMARK(BM_CompareExchange_Plain);

void BM_ChoicePoints_WeftAtomic(benchmark::State& state) {
  weft::bench::choice_points(state, [] {
    weft::Atomic<std::uint64_t> x{0};
    auto a = weft::spawn("a", [] {});
    for (std::int64_t i = 0; i < weft::bench::kPerRun; ++i) x.store(1);
    a.join();
  });
}
BENCHMARK(BM_ChoicePoints_WeftAtomic)->Unit(benchmark::kMillisecond);

}  // namespace
