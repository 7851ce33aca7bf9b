// RapidCheck glue: a schedule as a value RapidCheck can generate and
// shrink. A ScheduleScript is a list of numbers, each taken modulo the
// alternatives at the next choice point (then: keep the current strand), so
// RapidCheck's shrinking (shorter lists, smaller numbers) yields schedules
// with fewer switches. check_schedules() reports RapidCheck's smallest
// failing schedule as explore() reports a failure (report, trace file,
// replay command and timeline). Header-only: weft_sim does not link
// RapidCheck.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/harness/report_schedule.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"

namespace weft::testing {

struct ScheduleScript {
  std::vector<std::uint32_t> choices;
};

inline void showValue(const ScheduleScript& s, std::ostream& os) {
  os << "ScheduleScript{";
  for (std::size_t i = 0; i < s.choices.size(); ++i)
    os << (i ? "," : "") << s.choices[i];
  os << "}";
}

// Runs `body` once under the schedule `script` describes.
inline sim::RunResult run_script(const ScheduleScript& script,
                                 const std::function<void()>& body,
                                 sim::RunLimits limits = {}) {
  sim::ScriptStrategy strategy(script.choices);
  sim::Scheduler scheduler(limits);
  return scheduler.run(strategy, 0, body);
}

// Checks with RapidCheck that `body` passes under every schedule script.
// On a failure, RapidCheck's smallest failing script (the last failing
// one it ran) is reported as explore() reports a failure: shrunk again,
// written as a trace under options.trace_dir, printed with the command that
// replays it and the one that draws its timeline. Returns that report's
// result (failed() if RapidCheck found a failing schedule).
inline sim::ExploreResult check_schedules(const std::string& description,
                                          const std::function<void()>& body,
                                          sim::ExploreOptions options = {}) {
  std::optional<sim::Schedule> smallest;
  const bool passed = rc::check(description, [&](ScheduleScript s) {
    sim::RunResult r = run_script(s, body, options.limits);
    if (r.failed()) smallest = std::move(r.schedule);
    RC_ASSERT(!r.failed());
  });
  sim::ExploreResult result;
  if (passed || !smallest) return result;
  result = sim::report_schedule(options, "rapidcheck", *smallest, body);
  if (options.print && !result.trace_path.empty())
    std::fprintf(stderr,
                 "look at it on a timeline:\n  weft trace export --format "
                 "html %s\n",
                 result.trace_path.c_str());
  return result;
}

}  // namespace weft::testing

namespace rc {
template <>
struct Arbitrary<weft::testing::ScheduleScript> {
  static Gen<weft::testing::ScheduleScript> arbitrary() {
    return gen::construct<weft::testing::ScheduleScript>(
        gen::container<std::vector<std::uint32_t>>(
            gen::inRange<std::uint32_t>(0, 8)));
  }
};
}  // namespace rc
