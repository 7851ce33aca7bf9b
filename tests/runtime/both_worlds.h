// What the runtime tests share: every claim about a component holds on
// real threads and under the scheduler, so a test body runs once for real
// and then under a number of schedules.
#pragma once

#include <cstdint>

#include "sim/explore.h"
#include "sim/gtest.h"

namespace weft::runtime::test_support {

// `n` schedules of `strategy`, with the environment ignored (a test's
// claim must not change under a user's WEFT_* settings) and no trace files.
inline sim::ExploreOptions schedules(std::uint64_t n,
                                     const char* strategy = "portfolio") {
  sim::ExploreOptions o;
  o.iterations = n;
  o.strategy = strategy;
  o.use_environment = false;
  o.trace_dir = "";
  return o;
}

// Runs `body` on real threads, then under 300 schedules.
template <class Body>
void on_threads_and_simulated(Body body) {
  body();
  weft::testing::explore(body, schedules(300));
}

}  // namespace weft::runtime::test_support
