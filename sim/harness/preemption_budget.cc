#include "sim/harness/preemption_budget.h"

namespace weft::sim {

std::uint32_t PreemptionBudget::choose(const ChoicePoint& point) {
  std::uint32_t index = inner_->choose(point);
  if (point.is_value || index >= point.count) return index;
  const std::uint32_t stay = non_preempting(point);
  const bool can_stay = point.strands[stay] == point.current;
  if (!can_stay || index == stay) return index;
  if (used_ >= budget_) return stay;
  ++used_;
  return index;
}

std::string PreemptionBudget::environment() const {
  return inner_->environment() +
         " WEFT_MAX_PREEMPTIONS=" + std::to_string(budget_);
}

std::unique_ptr<Strategy> PreemptionBudget::replica() const {
  std::unique_ptr<Strategy> inner = inner_->replica();
  if (inner == nullptr) return nullptr;
  return std::make_unique<PreemptionBudget>(std::move(inner), budget_);
}

std::unique_ptr<Strategy> with_preemption_budget(
    std::unique_ptr<Strategy> strategy, int max_preemptions) {
  if (max_preemptions < 0) return strategy;
  return std::make_unique<PreemptionBudget>(std::move(strategy),
                                            max_preemptions);
}

}  // namespace weft::sim
