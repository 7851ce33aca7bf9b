// PCT over a range of depths: each schedule draws its bug depth d from
// [1, max_depth] (from its seed), then runs PCT with that d. A bug of
// unknown depth is then found at a rate close to PCT's at the right depth,
// instead of PCT's much lower rate when its fixed d is too small or too
// large. The schedule length estimate k is learned across schedules as
// PCT learns it; environment() names the plain PCT (depth and k) that makes
// the same schedule, so a printed command replays it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sim/strategy.h"

namespace weft::sim {

class PctRangeStrategy final : public Strategy {
 public:
  // `fixed_steps`: k for every schedule (0: learn it).
  explicit PctRangeStrategy(int max_depth, std::uint64_t fixed_steps = 0);
  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override {
    return pct_->choose(point);
  }
  void end(std::uint64_t choices) override;
  // So PCT follows the runnable set and picks in O(log n), not by a scan.
  void runnable_changed(StrandId id, bool runnable) override {
    pct_->runnable_changed(id, runnable);
  }
  std::string name() const override { return "pctrange"; }
  std::string environment() const override { return pct_->environment(); }
  std::unique_ptr<Strategy> replica() const override { return pct_->replica(); }
  // The depth the current (or last) schedule uses.
  int depth() const { return depth_; }
  // The depth schedule `seed` uses, for max_depth.
  static int depth_for(std::uint64_t seed, int max_depth);

 private:
  int max_depth_;
  bool fixed_;
  std::uint64_t steps_;
  int depth_ = 1;
  std::optional<PctStrategy> pct_;
};

}  // namespace weft::sim
