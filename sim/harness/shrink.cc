#include "sim/harness/shrink.h"

#include <algorithm>
#include <vector>

#include "sim/harness/plan_strategy.h"

namespace weft::sim {
namespace {

Plan plan_of(const Schedule& s) {
  Plan p;
  for (const Choice& c : s) {
    if (c.is_value) {
      p.values.push_back(c.chosen);
      p.value_kinds.push_back(c.kind);
    } else if (!p.segments.empty() && p.segments.back().strand == c.picked) {
      ++p.segments.back().picks;
    } else {
      p.segments.push_back(Segment{c.picked, 1});
    }
  }
  return p;
}

// A schedule ends, for replay purposes, at its last choice that a lenient
// replay would not make by itself (keep the current strand, else the
// lowest id; value 0).
Schedule trimmed(const Schedule& s) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const Choice& c = s[i];
    const bool default_choice =
        c.is_value ? c.chosen == 0
                   : c.picked == c.strand || (!c.preemption && c.chosen == 0);
    if (!default_choice) end = i + 1;
  }
  return Schedule(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(end));
}

// Smaller is: fewer preemptions, then fewer steps to the failure, then
// fewer pinned choices, then smaller values (weft::choose, random_bool).
struct Size {
  std::size_t preemptions;
  std::uint64_t steps;
  std::size_t choices;
  std::uint64_t values;
  bool operator<(const Size& o) const {
    if (preemptions != o.preemptions) return preemptions < o.preemptions;
    if (steps != o.steps) return steps < o.steps;
    if (choices != o.choices) return choices < o.choices;
    return values < o.values;
  }
};

Size size_of(const Schedule& s, std::uint64_t steps) {
  std::uint64_t values = 0;
  for (const Choice& c : s)
    if (c.is_value && c.kind == ChoiceKind::kChoose) values += c.chosen;
  return {count_preemptions(s), steps, trimmed(s).size(), values};
}

// Moves each value the test chose (kChoose; the engine's own values, such
// as spurious wake-ups, stay as they are) to the smallest that still fails
// alike (a binary search below it); `attempt` keeps a candidate that is smaller
// and rebuilds `plan`. True if any value moved.
template <class Attempt, class Budget>
bool shrink_values(Plan& plan, const Attempt& attempt, const Budget& budget) {
  bool progress = false;
  for (std::size_t i = 0; i < plan.values.size() && budget(); ++i) {
    if (plan.value_kinds[i] != ChoiceKind::kChoose) continue;
    std::uint32_t lo = 0;
    std::uint32_t hi = plan.values[i];
    while (lo < hi && budget() && i < plan.values.size()) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      Plan smaller = plan;
      smaller.values[i] = mid;
      if (attempt(smaller)) {
        progress = true;
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
  }
  return progress;
}

}  // namespace

ShrinkResult shrink(const Schedule& failing, const Failure& failure,
                    const std::function<void()>& body, RunLimits limits,
                    std::uint64_t max_runs) {
  Scheduler sched(limits);
  ShrinkResult best;
  best.schedule = failing;
  best.failure = failure;
  {
    ReplayStrategy replay(failing);
    RunResult r = sched.run(replay, 0, body);
    best.steps = r.steps;
    ++best.runs;
  }
  Plan plan = plan_of(failing);

  // Runs a candidate; keeps it when it fails the same way and is smaller.
  // A candidate with fewer faults is kept at any length (`fewer_faults`).
  auto attempt = [&](const Plan& candidate, bool fewer_faults = false) {
    if (best.runs >= max_runs) return false;
    ++best.runs;
    PlanStrategy strategy(candidate);
    RunResult r = sched.run(strategy, 0, body);
    if (!r.failed() || r.failure->kind != failure.kind) return false;
    const Size was = size_of(best.schedule, best.steps);
    const Size now = size_of(r.schedule, r.steps);
    if (fewer_faults ? now.preemptions > was.preemptions : !(now < was))
      return false;
    best.schedule = r.schedule;
    best.failure = *r.failure;
    best.steps = r.steps;
    plan = plan_of(best.schedule);
    return true;
  };

  bool progress = true;
  while (progress && best.runs < max_runs) {
    progress = false;
    // Drop a segment: its strand's picks are not made there at all, so a
    // strand that has nothing to do with the failure stops running before
    // it (fewer steps, and the switches to and from it go).
    for (std::size_t i = 0; i < plan.segments.size() && best.runs < max_runs;) {
      Plan dropped = plan;
      dropped.segments.erase(dropped.segments.begin() +
                             static_cast<std::ptrdiff_t>(i));
      if (attempt(dropped)) {
        progress = true;
        continue;  // the plan was rebuilt; look at i again
      }
      ++i;
    }
    for (std::size_t i = 0; i < plan.segments.size() && best.runs < max_runs;) {
      // The next segment of the same strand, with others in between.
      std::size_t j = i + 2;
      while (j < plan.segments.size() &&
             plan.segments[j].strand != plan.segments[i].strand)
        ++j;
      if (j >= plan.segments.size()) {
        ++i;
        continue;
      }
      const auto pos = [](std::size_t k) {
        return static_cast<std::ptrdiff_t>(k);
      };
      // Pull the later segment up: the strand runs both in one go, the
      // segments in between run after it.
      Plan pulled = plan;
      pulled.segments[i].picks += pulled.segments[j].picks;
      pulled.segments.erase(pulled.segments.begin() + pos(j));
      if (attempt(pulled)) {
        progress = true;
        continue;  // the plan was rebuilt; look at i again
      }
      // Push the earlier segment down: the segments in between run first.
      Plan pushed = plan;
      pushed.segments[j].picks += pushed.segments[i].picks;
      pushed.segments.erase(pushed.segments.begin() + pos(i));
      if (attempt(pushed)) {
        progress = true;
        continue;
      }
      ++i;
    }
    if (shrink_values(plan, attempt, [&] { return best.runs < max_runs; }))
      progress = true;
  }
  // Then each fault draw (a site switched on, a fault fired) set to 0, its
  // benign value: a fault the failure does not need goes. (Other values,
  // such as spurious wake-ups, stay as they are.)
  for (std::size_t i = 0; i < plan.values.size() && best.runs < max_runs; ++i) {
    if (plan.values[i] == 0 || plan.value_kinds[i] != ChoiceKind::kFault)
      continue;
    Plan zeroed = plan;
    zeroed.values[i] = 0;
    attempt(zeroed, /*fewer_faults=*/true);
  }
  // Finally the shortest prefix of the plan that still fails: past it,
  // every choice is the default one.
  std::size_t lo = 0, hi = plan.segments.size();
  while (lo < hi && best.runs < max_runs) {
    const std::size_t mid = lo + (hi - lo) / 2;
    Plan prefix = plan;
    prefix.segments.resize(mid);
    if (attempt(prefix)) {
      hi = std::min(mid, plan.segments.size());
      lo = 0;
    } else {
      lo = mid + 1;
    }
  }
  best.schedule = trimmed(best.schedule);
  return best;
}

}  // namespace weft::sim
