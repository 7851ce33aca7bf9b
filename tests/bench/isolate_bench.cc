// Isolate benchmarks, each beside a baseline in the same binary:
//  - a submit_call round trip on real threads (serialise the arguments,
//    hand the call to the isolate's thread, run it, serialise the result,
//    wait, deserialise) vs std::async of the same function;
//  - serialisation cost per MB of arguments (cereal's binary archive, out
//    and back in) vs copying the same bytes.
// Run: build-release/tests/bench/isolate_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <future>
#include <vector>

#include "runtime/isolate.h"

namespace {

using weft::runtime::Isolate;
using weft::runtime::Module;

int add(int a, int b) { return a + b; }

void BM_SubmitCallRoundTrip(benchmark::State& state) {
  Isolate iso;
  iso.exec(Module("m").def("add", add));
  int i = 0;
  for (auto _ : state) {
    iso.submit_call("add", i, 1);
    iso.wait();
    i = *iso.last_retval<int>();
  }
  benchmark::DoNotOptimize(i);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SubmitCallRoundTrip)->UseRealTime();

// Baseline: std::async with a new thread per call, as a host without
// isolates would hand work off.
void BM_StdAsyncRoundTrip(benchmark::State& state) {
  int i = 0;
  for (auto _ : state) i = std::async(std::launch::async, add, i, 1).get();
  benchmark::DoNotOptimize(i);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdAsyncRoundTrip)->UseRealTime();

std::vector<std::uint8_t> payload(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31);
  return v;
}

// Arguments of 1 MB through cereal: out, then back in.
void BM_SerialiseArguments(benchmark::State& state) {
  const auto data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    const std::string bytes = weft::runtime::internal::pack(data, 7);
    auto back =
        weft::runtime::internal::unpack<std::vector<std::uint8_t>>(bytes);
    benchmark::DoNotOptimize(back.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SerialiseArguments)->Arg(1 << 20);

// Baseline: copying the same bytes twice (out and back in).
void BM_CopyArguments(benchmark::State& state) {
  const auto data = payload(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::vector<std::uint8_t> out(data);
    std::vector<std::uint8_t> back(out);
    benchmark::DoNotOptimize(back.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CopyArguments)->Arg(1 << 20);

// The whole call with 1 MB of arguments, on real threads.
void BM_SubmitCallWithAMegabyte(benchmark::State& state) {
  Isolate iso;
  iso.exec(Module("m").def(
      "size", [](std::vector<std::uint8_t> v) { return v.size(); }));
  const auto data = payload(1 << 20);
  for (auto _ : state) {
    iso.submit_call("size", data);
    iso.wait();
    benchmark::DoNotOptimize(iso.last_retval<std::size_t>());
  }
  state.SetBytesProcessed(state.iterations() * (1 << 20));
}
BENCHMARK(BM_SubmitCallWithAMegabyte)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
