// Runs a body under the scheduler once per benchmark iteration (random
// walk, a new seed each time) and reports items per second and choice
// points per item: the simulated side of the runtime benchmarks.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <string>

#include "sim/scheduler.h"
#include "sim/strategy.h"

namespace weft::bench {

inline void simulated_runs(benchmark::State& state,
                           const std::function<void()>& body,
                           std::int64_t items_per_run,
                           const std::string& per_item_counter) {
  sim::RunLimits limits;
  limits.max_steps = 1ULL << 40;
  sim::Scheduler sched(limits);
  sim::RandomStrategy random;
  std::uint64_t steps = 0;
  std::uint64_t seed = 0;
  for (auto _ : state) {
    const auto run = sched.run(random, ++seed, body);
    if (run.failed()) state.SkipWithError(run.failure->message.c_str());
    steps += run.steps;
  }
  state.SetItemsProcessed(state.iterations() * items_per_run);
  state.counters[per_item_counter] = static_cast<double>(steps) /
                                     static_cast<double>(state.iterations()) /
                                     static_cast<double>(items_per_run);
}

}  // namespace weft::bench
