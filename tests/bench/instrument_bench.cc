// Instrumented code (weft_instrument, sim/instrument/), each beside a
// baseline in the same binary: a std::atomic operation outside a
// simulation, instrumented against plain (the hook is one thread-local
// check and the operation), and choice points per second inside one, an
// instrumented std::atomic against weft's own weft::Atomic. This file is
// compiled with -fsanitize=thread and calls the hooks; the baselines are
// in instrument_bench_plain.cc, compiled without it, and the same
// operations with the hooks inlined (ThinLTO) in instrument_bench_inline.cc.
#include "tests/bench/instrument_bench.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "tests/bench/instrument_bench_ops.h"

namespace {

std::atomic<std::uint64_t> g_word{0};

// --- outside a simulation ------------------------------------------------

WEFT_ATOMIC_OP_BENCHMARKS(Instrumented);

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
