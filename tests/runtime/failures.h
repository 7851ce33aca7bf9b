// What the runtime tests of failure reporting share: explorations that are
// expected to fail, kept quiet (the test checks the report itself), and
// errors that a component reports as Twisted logs them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sim/harness/explore.h"
#include "sim/harness/gtest.h"
#include "tests/runtime/both_worlds.h"

namespace weft::runtime::test_support {

// `n` schedules, as schedules(n), with no report printed.
inline sim::ExploreOptions quiet(std::uint64_t n) {
  sim::ExploreOptions o = schedules(n);
  o.print = false;
  return o;
}

// Explores `body`, which must fail: the result, for the test to check.
template <class Body>
sim::ExploreResult failure_of(Body body, std::uint64_t n = 20) {
  return weft::testing::find_failure(quiet(n), body);
}

// An error a worker or the reactor reports rather than delivers: printed
// on real threads (where the body goes on and must pass), a failure of the
// schedule in a simulation.
struct Reported {
  std::string printed;           // stderr of the real run
  sim::ExploreResult simulated;  // the simulated runs
};
template <class Body>
Reported reported_in_both_worlds(Body body, std::uint64_t n = 50) {
  Reported r;
  ::testing::internal::CaptureStderr();
  body();
  r.printed = ::testing::internal::GetCapturedStderr();
  r.simulated = failure_of(body, n);
  return r;
}

}  // namespace weft::runtime::test_support
