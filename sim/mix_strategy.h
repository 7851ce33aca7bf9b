// A portfolio of strategies that takes turns by seed: with weights w1..wn,
// schedule seeds s with s mod (w1+...+wn) in the i-th block of the weights
// go to strategy i. Each part keeps what it learns (PCT's k, SURW's
// profile) across its own schedules, and the active part names the failing
// schedule (name(), environment(), replica()), so a report says which
// strategy found the bug and its replay command selects that strategy.
// A part may name a stand-in for crowded programs: once a schedule of the
// exploration has had more than `max_strands` strands, the stand-in takes
// the part's turns (a strategy whose choice costs O(n) in the strands
// gives way to one that does not).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/strategy.h"

namespace weft::sim {

class MixStrategy final : public ForwardingStrategy {
 public:
  struct Part {
    std::unique_ptr<Strategy> strategy;
    std::uint32_t weight;
    std::unique_ptr<Strategy> crowded = nullptr;  // none: always `strategy`
    std::uint32_t max_strands = 0;
  };
  // The first `lead` schedules all go to the first part.
  explicit MixStrategy(std::vector<Part> parts, std::uint64_t lead = 0);
  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void runnable_changed(StrandId id, bool runnable) override;
  void end(std::uint64_t choices) override;
  // A mix of samplers never finishes, whichever part is active.
  bool finished() const override { return false; }

 private:
  void saw(StrandId id) {
    if (id != kNoStrand && id + 1 > strands_) strands_ = id + 1;
  }

  std::vector<Part> parts_;
  std::uint64_t total_ = 0;
  std::uint64_t lead_ = 0;
  std::uint64_t begun_ = 0;
  std::uint32_t strands_ = 0;       // this schedule's, so far
  std::uint32_t most_strands_ = 0;  // the most of any schedule ended
};

}  // namespace weft::sim
