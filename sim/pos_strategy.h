// Partial order sampling (POS; Yuan et al., CAV 2018). Every pending
// operation carries a random priority and the enabled strand whose pending
// operation has the highest runs. After an operation runs, the strand that
// ran draws a new priority for its next operation, and so does every strand
// whose pending operation is dependent on the one that ran (sim/choice.h's
// dependent()); independent operations keep theirs. A random walk is biased
// towards interleavings with many equivalent orders; POS samples partial
// orders far more evenly. Value choices are uniform.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/random.h"
#include "sim/strategy.h"

namespace weft::sim {

class PosStrategy final : public Strategy {
 public:
  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  // The operation that ran is followed even where nothing was contested.
  bool sees_forced_points() const override { return true; }
  std::string name() const override { return "pos"; }
  std::string environment() const override { return "WEFT_STRATEGY=pos"; }
  std::unique_ptr<Strategy> replica() const override {
    return std::make_unique<PosStrategy>();
  }

 private:
  std::uint64_t& priority(StrandId id);

  Rng rng_;
  std::vector<std::uint64_t> priority_;  // by strand id; 0: not drawn yet
  StrandId last_ = kNoStrand;            // the strand picked last
  PendingOp last_op_;                    // what it was about to do
};

}  // namespace weft::sim
