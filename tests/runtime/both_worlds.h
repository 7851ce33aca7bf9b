// What the runtime tests share: every claim about a component holds on
// real threads and under the scheduler, so a test body runs once for real
// and then under a number of schedules.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "sim/harness/explore.h"
#include "sim/harness/gtest.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"

namespace weft::runtime::test_support {

// `n` schedules of `strategy`, with the environment ignored (a test's
// claim must not change under a user's WEFT_* settings) and no trace files.
// Two variables only add checks and are honoured: WEFT_CHECK_DETERMINISM=
// all (the unseed check, tests/runtime/unseed_check.sh) and WEFT_VERBOSE=1
// (print each pass, which that script counts).
inline sim::ExploreOptions schedules(std::uint64_t n,
                                     const char* strategy = "portfolio") {
  sim::ExploreOptions o;
  o.iterations = n;
  o.strategy = strategy;
  o.use_environment = false;
  o.trace_dir = "";
  const char* check = std::getenv("WEFT_CHECK_DETERMINISM");
  o.check_every_schedule = check != nullptr && std::string(check) == "all";
  const char* verbose = std::getenv("WEFT_VERBOSE");
  o.verbose = verbose != nullptr && std::string(verbose) == "1";
  return o;
}

// Runs `body` on real threads, then under 300 schedules.
template <class Body>
void on_threads_and_simulated(Body body) {
  body();
  weft::testing::explore(schedules(300), body);
}

// The determinism claim: seeds 0..19 of PCT (depth 3, `pct_steps`), each
// run twice, give the same schedule digest, and none fails.
inline void expect_same_schedule_per_seed(const std::function<void()>& body,
                                          std::uint64_t pct_steps) {
  sim::Scheduler sched(sim::RunLimits{});
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    sim::PctStrategy pct(3, pct_steps);
    const auto a = sched.run(pct, seed, body);
    const auto b = sched.run(pct, seed, body);
    ASSERT_FALSE(a.failed()) << a.failure->message;
    EXPECT_EQ(sim::digest(a.schedule), sim::digest(b.schedule)) << seed;
  }
}

}  // namespace weft::runtime::test_support
