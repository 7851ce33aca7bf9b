// RapidCheck glue: a schedule as a value RapidCheck can generate and
// shrink. A ScheduleScript is a list of numbers, each taken modulo the
// alternatives at the next choice point (then: keep the current strand), so
// RapidCheck's shrinking (shorter lists, smaller numbers) yields schedules
// with fewer switches. Header-only: weft_sim does not link RapidCheck.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <functional>
#include <ostream>
#include <vector>

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
