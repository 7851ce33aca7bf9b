// PlanStrategy: the guided runs of shrinking. A plan says which strand
// runs for how many picks, segment after segment, and which values the
// value choices take; past the plan every choice keeps the current strand
// running, so removing a segment removes a context switch. Not a search:
// it makes the one schedule its plan describes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/strategy.h"

namespace weft::sim {

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
  std::vector<std::uint32_t> values;    // value choices, in order
  std::vector<ChoiceKind> value_kinds;  // the kind of each
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

}  // namespace weft::sim
