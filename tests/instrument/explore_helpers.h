// Options the instrumented tests explore with: a bounded exhaustive search
// (dfs or dpor) that stops by itself, or a fixed number of schedules of a
// named strategy; quiet, no trace files unless asked.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/harness/explore.h"

namespace weft::test {

inline sim::ExploreOptions quiet_options(const char* strategy,
                                         std::uint64_t iterations = 1000) {
  sim::ExploreOptions o;
  o.strategy = strategy;
  o.iterations = iterations;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.shrink = false;
  return o;
}

// Every schedule within `bound` preemptions (-1: all), by `strategy`.
inline sim::ExploreResult exhaustive(const char* strategy, int bound,
                                     const std::function<void()>& body) {
  sim::ExploreOptions o = quiet_options(strategy, 10'000'000);
  o.preemption_bound = bound;
  return sim::explore(o, body);
}

// Replays a failing result's schedule.
inline sim::ExploreResult replay(const sim::ExploreResult& failed,
                                 const std::function<void()>& body) {
  sim::ExploreOptions o = quiet_options("portfolio", 1);
  o.replay = failed.schedule;
  return sim::explore(o, body);
}

}  // namespace weft::test
