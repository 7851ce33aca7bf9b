// Shrinking: from a failing schedule, search for a smaller one that fails
// the same way (same FailureKind), preferring fewer preemptions, then fewer
// choices. Candidates are guided runs: each choice names the strand (or
// value) to pick, and anything the guide does not cover keeps the current
// strand running, so deleting a guide entry removes a switch. Every
// candidate is a real run of the body; the result replays exactly.
#pragma once

#include <cstdint>
#include <functional>

#include "sim/choice.h"
#include "sim/scheduler.h"

namespace weft::sim {

struct ShrinkResult {
  // The smallest failing schedule found, ending at its last switch: replay
  // it with ReplayStrategy(schedule, /*lenient_tail=*/true).
  Schedule schedule;
  Failure failure;          // how it fails
  std::uint64_t steps = 0;  // steps of the failing run
  std::uint64_t runs = 0;   // candidate runs tried
};

// `failing` must be a schedule on which `body` fails with `failure.kind`.
// Stops after `max_runs` candidate runs.
ShrinkResult shrink(const Schedule& failing, const Failure& failure,
                    const std::function<void()>& body, RunLimits limits,
                    std::uint64_t max_runs = 2000);

}  // namespace weft::sim
