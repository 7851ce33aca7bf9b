// Randomized delay-bounded scheduling (Emmi, Qadeer and Rakamaric, POPL
// 2011; as measured in Thomson, Donaldson and Betts's SCTBench study). The
// deterministic scheduler underneath is non-preemptive round robin: the
// running strand goes on while it can, then the next enabled strand in id
// order (wrapping around) runs. A *delay* skips the strand that scheduler
// would pick, for the next one in the same order. Each schedule places
// `delays` delays at choice points drawn at random among the first k, so
// it makes at most that many; k is learned from the longest schedule seen,
// as PCT learns it, and is part of environment() for replay.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/random.h"
#include "sim/strategy.h"

namespace weft::sim {

class DelayBoundStrategy final : public Strategy {
 public:
  // `fixed_steps`: k for every schedule (0: learn it).
  explicit DelayBoundStrategy(int delays, std::uint64_t fixed_steps = 0);
  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  std::string name() const override { return "delaybound"; }
  std::string environment() const override;
  std::unique_ptr<Strategy> replica() const override {
    return std::make_unique<DelayBoundStrategy>(delays_, steps_this_run_);
  }
  // The delays the current schedule has made so far.
  int delays_made() const { return made_; }

 private:
  int delays_;
  bool fixed_;
  std::uint64_t steps_;           // k: the estimated schedule length
  std::uint64_t steps_this_run_;  // k used by the current schedule
  Rng rng_;
  std::vector<std::uint64_t> delay_points_;  // sorted, repeats allowed
  std::uint64_t choices_ = 0;
  int made_ = 0;
};

}  // namespace weft::sim
