// The echo exchange of docs/examples/echo_server.h, messages per second:
//  - on real loopback TCP (one reactor, epoll, level-triggered), the
//    baseline: what the component really does;
//  - the same code on the simulated network (random walk, no faults), and
//    with every fault site in swarm mode: messages per second of wall time
//    under the scheduler, and choice points per message.
// Run: build-release/tests/bench/net_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include "runtime/sim_network.h"
#include "tests/bench/simulated_runs.h"
#include "tests/runtime/echo_harness.h"

namespace {

using namespace weft::runtime;
using namespace weft::runtime::echo;

constexpr int kClients = 4;
constexpr int kLines = 250;
constexpr int kMessages = kClients * kLines;

Exchange exchange(const std::string& address) {
  return {.clients = kClients, .lines = kLines, .address = address};
}

void BM_EchoRealLoopback(benchmark::State& state) {
  for (auto _ : state) {
    const auto r = run_exchange(exchange("tcp:127.0.0.1:0"));
    if (r.bytes_received != r.bytes_sent) state.SkipWithError("lost bytes");
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_EchoRealLoopback)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EchoSimulated(benchmark::State& state) {
  weft::bench::simulated_runs(
      state,
      [] {
        SimNetwork net(SimNetworkOptions::none());
        run_exchange(exchange("tcp:10.0.0.1:7"));
      },
      kMessages, "steps_per_message");
}
BENCHMARK(BM_EchoSimulated)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EchoSimulatedSwarmFaults(benchmark::State& state) {
  weft::bench::simulated_runs(
      state,
      [] {
        SimNetwork net;
        run_exchange(exchange("tcp:10.0.0.1:7"));
      },
      kMessages, "steps_per_message");
}
BENCHMARK(BM_EchoSimulatedSwarmFaults)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
