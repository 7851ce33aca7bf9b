// instrument_bench's baselines, compiled without -fsanitize=thread (see
// tests/bench/CMakeLists.txt): the same std::atomic operations inlined as
// the compiler emits them, and weft's own weft::Atomic as a choice point.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "tests/bench/instrument_bench.h"
#include "tests/bench/instrument_bench_ops.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#error "instrument_bench_plain.cc must be compiled without -fsanitize=thread"
#endif
#endif

namespace {

std::atomic<std::uint64_t> g_word{0};

WEFT_ATOMIC_OP_BENCHMARKS(Plain);

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
