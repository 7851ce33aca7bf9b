// Crash containment: explore() runs its schedules in a supervised child
// process, so code under test that aborts, faults, calls exit(), overflows
// a strand's stack or spins without a choice point (a real-time watchdog)
// becomes a failure like any other, with a trace file and a replay command,
// and the calling process goes on. Internal to explore.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/harness/explore.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"

namespace weft::sim::internal {

// Runs the exploration (one strategy's schedules and the failure pipeline
// of an ordinary failure): explore()'s in-process loop.
using ScheduleLoop = std::function<ExploreResult(ExploreOptions&, Strategy&,
                                                 const std::function<void()>&)>;

// Whether explore() contains this call: the options say so and we are not
// already inside a contained child.
bool contained(const ExploreOptions& o);

// Runs `loop` in a child process and returns its result; if the child dies
// mid-schedule, builds the failure (kind, strand, step, signal) from what
// the child left in shared memory, writes its trace from a recorded rerun
// in a second child, and reports it.
ExploreResult explore_contained(ExploreOptions& o, Strategy& strategy,
                                const std::function<void()>& body,
                                const ScheduleLoop& loop);

// The result of explore() across the pipe from the child.
std::string encode_result(const ExploreResult& r);
ExploreResult decode_result(const std::string& bytes);

// The signal's name ("SIGSEGV") and a description ("segmentation fault").
std::string signal_name(int sig);

}  // namespace weft::sim::internal
