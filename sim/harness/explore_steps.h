// The steps of explore() after a schedule failed, each small and in the
// order the report prints them: check determinism, shrink, write the trace
// files, then build the commands and the report. Internal to explore.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/harness/explore.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "traces/format.h"

namespace weft::sim::internal {

using sim::shell_quote;
std::string hex(std::uint64_t v);

// Runs the failing schedule again (a replica of `strategy` with the same
// seed, or a replay of the schedule) and returns a warning if it made a
// different schedule; "" if the same.
std::string check_determinism(Scheduler& sched, const Strategy& strategy,
                              const ExploreResult& result,
                              const std::function<void()>& body);

// The path of the failing schedule's trace files without ".weft" (the
// directory is created), their header, and the report's line about one.
std::string trace_base(const ExploreOptions& o, std::uint64_t seed);
traces::TraceHeader trace_header(const ExploreOptions& o,
                                 const ExploreResult& result);
std::string trace_line(const char* what, const std::string& path,
                       const Schedule& schedule, std::uint64_t steps);

// WEFT_CHECK_DETERMINISM=all: runs seed `seed` again (a replica of
// `strategy`, or a replay of the schedule) right after `run`; if the two
// runs made different schedules (or only one failed), replaces run's
// failure with a kNondeterminism one naming both digests and the first
// differing choice.
void run_again_and_compare(Scheduler& sched, const Strategy& strategy,
                           std::uint64_t seed, RunResult& run,
                           const std::function<void()>& body);

// Shrinks result.schedule into result.shrunk; returns the report's line.
std::string shrink_failure(ExploreResult& result, const ExploreOptions& o,
                           const std::function<void()>& body);

// Writes the failing schedule (and its shrunk form) as trace files and
// fills the result's paths and trace replay command; returns the report's
// lines about them.
std::string write_traces(Scheduler& sched, const ExploreOptions& o,
                         ExploreResult& result,
                         const std::function<void()>& body);

// The command that replays the trace at `path`: WEFT_REPLAY=path and the
// command, or, when the exploration ignores the environment (so the
// variable would not take effect), what to set in the code instead.
std::string trace_replay_command(const ExploreOptions& o,
                                 const std::string& path);

// The trace file name's part for this exploration: the test's name (the
// program's outside GoogleTest), with ".N" for the N-th exploration of
// that name in this process, so two explorations never write one file.
// Counted once per explore() call by next_trace_name().
std::string next_trace_name(const ExploreOptions& o);

// The replay command by seed (or by file, for a replay).
std::string replay_command(const ExploreOptions& o, const ExploreResult& result,
                           bool replaying);

// The full report of a failure; `notes` are the lines the steps above
// returned, in order.
std::string report(const ExploreResult& result, const ExploreOptions& o,
                   bool replaying, const std::string& determinism,
                   const std::string& notes);

// The one line printed when every schedule passed: how many, by which
// strategies, how many distinct, the most preemptions, and whether the
// search was exhaustive or stopped by the time budget.
std::string pass_summary(const ExploreResult& result, const ExploreOptions& o);

}  // namespace weft::sim::internal
