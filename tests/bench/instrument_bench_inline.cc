// The same std::atomic operations as instrument_bench.cc, instrumented,
// in a file compiled as ThinLTO bitcode and linked against
// weft::instrument_inline (weft_instrument(... INLINE_HOOKS)): the link
// inlines each hook's fast path, a thread-local check, into the loop.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "tests/bench/instrument_bench_ops.h"

namespace {

std::atomic<std::uint64_t> g_word{0};

WEFT_ATOMIC_OP_BENCHMARKS(InstrumentedInline);

}  // namespace
