#include "sim/delay_bound_strategy.h"

#include <algorithm>

namespace weft::sim {

DelayBoundStrategy::DelayBoundStrategy(int delays, std::uint64_t fixed_steps)
    : delays_(std::max(delays, 0)),
      fixed_(fixed_steps != 0),
      steps_(fixed_steps != 0 ? fixed_steps : 16),
      steps_this_run_(steps_) {}

void DelayBoundStrategy::begin(std::uint64_t seed) {
  rng_.reseed(seed);
  choices_ = 0;
  made_ = 0;
  steps_this_run_ = steps_;
  delay_points_.clear();
  for (int i = 0; i < delays_; ++i)
    delay_points_.push_back(1 + rng_.below(steps_this_run_));
  std::sort(delay_points_.begin(), delay_points_.end());
}

std::uint32_t DelayBoundStrategy::choose(const ChoicePoint& point) {
  ++choices_;
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  // Round robin from the running strand: itself if enabled, else the
  // first enabled strand after it in id order, wrapping around.
  const auto from = std::lower_bound(point.strands.begin(), point.strands.end(),
                                     point.current);
  const std::uint32_t at =
      from == point.strands.end()
          ? 0
          : static_cast<std::uint32_t>(from - point.strands.begin());
  const auto [lo, hi] =
      std::equal_range(delay_points_.begin(), delay_points_.end(), choices_);
  const auto delays = static_cast<std::uint32_t>(hi - lo);
  made_ += static_cast<int>(delays);
  return (at + delays) % point.count;
}

void DelayBoundStrategy::end(std::uint64_t choices) {
  if (!fixed_) steps_ = std::max(steps_, choices);
}

std::string DelayBoundStrategy::environment() const {
  return "WEFT_STRATEGY=delaybound WEFT_DELAY_BOUND=" +
         std::to_string(delays_) +
         " WEFT_PCT_STEPS=" + std::to_string(steps_this_run_);
}

}  // namespace weft::sim
