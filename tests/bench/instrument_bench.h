// The choice-point loop instrument_bench runs twice: two strands alive and
// a strategy that keeps the running one (as sim_bench's
// BM_ChoicePointNoSwitch), so each iteration costs one choice point.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "sim/weft.h"

namespace weft::bench {

inline constexpr std::int64_t kPerRun = 1 << 16;

template <class Body>
void choice_points(benchmark::State& state, Body body) {
  weft::sim::RunLimits limits;
  limits.max_steps = 1ULL << 40;
  weft::sim::Scheduler sched(limits);
  weft::sim::ScriptStrategy strategy({});  // past the script: stay
  std::int64_t done = 0;
  for (auto _ : state) {
    const auto r = sched.run(strategy, 1, body);
    if (r.steps < static_cast<std::uint64_t>(kPerRun)) {
      state.SkipWithError(
          ("fewer steps than choice points: " + std::to_string(r.steps))
              .c_str());
      return;
    }
    done += kPerRun;
  }
  state.SetItemsProcessed(done);
  state.counters["choice_points_per_s"] = benchmark::Counter(
      static_cast<double>(done), benchmark::Counter::kIsRate);
}

}  // namespace weft::bench
