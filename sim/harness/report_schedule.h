// report_schedule(): a failing schedule found outside explore() (a
// RapidCheck counterexample, a schedule built by hand) reported as explore
// reports its own: the determinism check, shrinking, the trace files and
// the report with the command that replays it from its trace.
#pragma once

#include <functional>
#include <string>

#include "sim/harness/explore.h"

namespace weft::sim {

// Runs `body` once under `schedule` (a lenient replay: past its end the
// current strand keeps running). If it fails, the failure goes through
// explore's pipeline with `options` (WEFT_* variables are not read) and
// the result carries the report; `source` names where the schedule came
// from in the report ("rapidcheck"). No seed selects such a schedule, so
// the report's replay command is the trace's.
ExploreResult report_schedule(ExploreOptions options, const std::string& source,
                              const Schedule& schedule,
                              const std::function<void()>& body);

}  // namespace weft::sim
