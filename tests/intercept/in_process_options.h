// The explore() options of the interposer's tests: no environment, no
// printing, no trace files, no containment and no shrinking, so each test
// reads its result in process.
#pragma once

#include <cstdint>

#include "sim/harness/explore.h"

namespace weft::intercept::test {

inline sim::ExploreOptions options(std::uint64_t iterations = 200) {
  sim::ExploreOptions o;
  o.use_environment = false;
  o.iterations = iterations;
  o.print = false;
  o.trace_dir.clear();
  o.contain = sim::ExploreOptions::Contain::kOff;
  o.shrink = false;
  return o;
}

}  // namespace weft::intercept::test
