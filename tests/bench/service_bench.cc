// Coroutine service benchmarks, each beside a baseline in the same binary:
//  - messages through call/ret on real threads: a host calling a service,
//    and a service calling another from a coroutine, vs a ping-pong
//    between two std::threads over two mutex+condvar queues;
//  - the same service-to-service calls simulated (wall time under the
//    scheduler);
//  - resuming a user coroutine (weft's UserCoroutine, a generator) vs a
//    raw std::coroutine_handle::resume of a minimal generator.
// Run: build-release/tests/bench/service_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include <coroutine>
#include <string>
#include <thread>

#include "runtime/service.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "tests/bench/plain_queue.h"
#include "tests/bench/simulated_runs.h"

namespace {

using weft::bench::PlainQueue;
using weft::runtime::Node;
using weft::runtime::Request;
using weft::runtime::Task;
using weft::runtime::UserCoroutine;

constexpr int kCalls = 2000;

// The host calls an echo service kCalls times, one after another.
void BM_HostCallRet(benchmark::State& state) {
  for (auto _ : state) {
    Node node;
    const auto echo = node.add_service({.name = "echo"});
    node.on(echo, "echo",
            [](Request& r) -> Task<std::string> { co_return r.payload(); });
    for (int i = 0; i < kCalls; ++i)
      benchmark::DoNotOptimize(node.call(echo, "echo", "x"));
  }
  state.SetItemsProcessed(state.iterations() * kCalls);
}
BENCHMARK(BM_HostCallRet)->Unit(benchmark::kMillisecond)->UseRealTime();

// One request to "client", whose handler calls "echo" kCalls times: each
// call is a request message, a response message and a resumption.
void service_calls(int n) {
  Node node;
  const auto echo = node.add_service({.name = "echo"});
  const auto client = node.add_service({.name = "client"});
  node.on(echo, "echo",
          [](Request& r) -> Task<std::string> { co_return r.payload(); });
  node.on(client, "go", [echo, n](Request& r) -> Task<std::string> {
    std::size_t total = 0;
    for (int i = 0; i < n; ++i)
      total += (co_await r.call(echo, "echo", "x")).size();
    co_return std::to_string(total);
  });
  node.call(client, "go", "");
}

void BM_ServiceCallRet(benchmark::State& state) {
  for (auto _ : state) service_calls(kCalls);
  state.SetItemsProcessed(state.iterations() * kCalls);
}
BENCHMARK(BM_ServiceCallRet)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baseline: the same number of round trips between a main thread and one
// std::thread (created per run, as the node's workers are).
void BM_PlainThreadRoundTrip(benchmark::State& state) {
  for (auto _ : state) weft::bench::plain_round_trips(kCalls);
  state.SetItemsProcessed(state.iterations() * kCalls);
}
BENCHMARK(BM_PlainThreadRoundTrip)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Simulated: the service-to-service calls under the scheduler, every
// delivery and resumption a choice point.
void BM_SimulatedServiceCallRet(benchmark::State& state) {
  weft::bench::simulated_runs(
      state, [] { service_calls(kCalls); }, kCalls, "choice_points_per_call");
}
BENCHMARK(BM_SimulatedServiceCallRet)->Unit(benchmark::kMillisecond);

UserCoroutine<int> counting() {
  for (int i = 0;; ++i) co_yield i;
}

void BM_UserCoroutineResume(benchmark::State& state) {
  auto g = counting();
  for (auto _ : state) benchmark::DoNotOptimize(g.resume());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UserCoroutineResume);

// Baseline: the smallest generator there is, resumed through its handle.
struct RawGenerator {
  struct promise_type {
    int value = 0;
    RawGenerator get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(int v) {
      value = v;
      return {};
    }
    void return_void() {}
    void unhandled_exception() {}
  };
  std::coroutine_handle<promise_type> h;
};

RawGenerator raw_counting() {
  for (int i = 0;; ++i) co_yield i;
}

void BM_RawCoroutineResume(benchmark::State& state) {
  auto g = raw_counting();
  for (auto _ : state) {
    g.h.resume();
    benchmark::DoNotOptimize(g.h.promise().value);
  }
  g.h.destroy();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawCoroutineResume);

}  // namespace

BENCHMARK_MAIN();
