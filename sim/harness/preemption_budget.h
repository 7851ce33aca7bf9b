// WEFT_MAX_PREEMPTIONS for any strategy: a wrapper that lets the strategy
// decide until a schedule has made `budget` preemptions (switches away from
// a strand that could have gone on), then keeps the running strand going
// wherever it can for the rest of that schedule (non_preempting()). The
// wrapped strategy still sees every choice point, so its own bookkeeping
// (PCT's step count, SURW's counts) stays in step. A yield is not a
// preemption: the strand asked to be switched away.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sim/strategy.h"

namespace weft::sim {

class PreemptionBudget final : public ForwardingStrategy {
 public:
  PreemptionBudget(std::unique_ptr<Strategy> inner, int budget)
      : ForwardingStrategy(inner.get()),
        inner_(std::move(inner)),
        budget_(budget) {}
  void begin(std::uint64_t seed) override {
    used_ = 0;
    inner_->begin(seed);
  }
  std::uint32_t choose(const ChoicePoint& point) override;
  std::string environment() const override;
  std::unique_ptr<Strategy> replica() const override;
  // Preemptions the current schedule has made.
  int used() const { return used_; }

 private:
  std::unique_ptr<Strategy> inner_;
  int budget_;
  int used_ = 0;
};

// `strategy` under a budget of `max_preemptions` (-1: no budget, returned
// as it is).
std::unique_ptr<Strategy> with_preemption_budget(
    std::unique_ptr<Strategy> strategy, int max_preemptions);

}  // namespace weft::sim
