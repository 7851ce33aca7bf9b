#include "sim/harness/shrink.h"

#include <algorithm>
#include <vector>

namespace weft::sim {
namespace {

// A schedule seen as segments: strand A runs for a picks, then B for b, ...
// Tinertia (Jalbert and Sen, FSE 2010) removes context switches by merging
// A's segments around a B segment, moving B after or before them; that
// keeps every strand's progress relative to the others' intact except
// around the switch removed, which is why it converges where deleting
// single switches does not.
struct Segment {
  StrandId strand;
  std::uint32_t picks;
};

struct Plan {
  std::vector<Segment> segments;
  std::vector<std::uint32_t> values;  // value choices, in order
};

class PlanStrategy final : public Strategy {
 public:
  explicit PlanStrategy(const Plan& plan) : plan_(plan) {}
  void begin(std::uint64_t) override {
    seg_ = 0;
    used_ = 0;
    value_ = 0;
  }
  std::uint32_t choose(const ChoicePoint& point) override {
    if (point.is_value) {
      const std::uint32_t v =
          value_ < plan_.values.size() ? plan_.values[value_++] : 0;
      return v < point.count ? v : 0;
    }
    auto index_of = [&](StrandId id) -> int {
      for (std::uint32_t i = 0; i < point.strands.size(); ++i)
        if (point.strands[i] == id) return static_cast<int>(i);
      return -1;
    };
    // Stay in the current segment while it has picks left and can run.
    while (seg_ < plan_.segments.size()) {
      const Segment& s = plan_.segments[seg_];
      const int i = index_of(s.strand);
      if (used_ < s.picks && i >= 0) {
        ++used_;
        return static_cast<std::uint32_t>(i);
      }
      ++seg_;
      used_ = 0;
    }
    // Past the plan: keep the current strand running.
    return non_preempting(point);
  }
  std::string name() const override { return "plan"; }
  std::string environment() const override { return ""; }

 private:
  const Plan& plan_;
  std::size_t seg_ = 0;
  std::uint32_t used_ = 0;
  std::size_t value_ = 0;
};

Plan plan_of(const Schedule& s) {
  Plan p;
  for (const Choice& c : s) {
    if (c.is_value) {
      p.values.push_back(c.chosen);
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
// fewer pinned choices.
struct Size {
  std::size_t preemptions;
  std::uint64_t steps;
  std::size_t choices;
  bool operator<(const Size& o) const {
    if (preemptions != o.preemptions) return preemptions < o.preemptions;
    if (steps != o.steps) return steps < o.steps;
    return choices < o.choices;
  }
};

Size size_of(const Schedule& s, std::uint64_t steps) {
  return {count_preemptions(s), steps, trimmed(s).size()};
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
  auto attempt = [&](const Plan& candidate) {
    if (best.runs >= max_runs) return false;
    ++best.runs;
    PlanStrategy strategy(candidate);
    RunResult r = sched.run(strategy, 0, body);
    if (!r.failed() || r.failure->kind != failure.kind) return false;
    if (!(size_of(r.schedule, r.steps) < size_of(best.schedule, best.steps)))
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
