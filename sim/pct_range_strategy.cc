#include "sim/pct_range_strategy.h"

#include <algorithm>

#include "sim/random.h"

namespace weft::sim {

PctRangeStrategy::PctRangeStrategy(int max_depth, std::uint64_t fixed_steps)
    : max_depth_(std::max(max_depth, 1)),
      fixed_(fixed_steps != 0),
      steps_(fixed_steps != 0 ? fixed_steps : 16) {
  pct_.emplace(1, steps_);
}

int PctRangeStrategy::depth_for(std::uint64_t seed, int max_depth) {
  // A generator of its own, so PCT's draws from the same seed are PCT's.
  Rng rng(seed ^ 0xd1b54a32d192ed03ULL);
  return 1 + static_cast<int>(
                 rng.below(static_cast<std::uint64_t>(std::max(max_depth, 1))));
}

void PctRangeStrategy::begin(std::uint64_t seed) {
  depth_ = depth_for(seed, max_depth_);
  pct_.emplace(depth_, steps_);
  pct_->begin(seed);
}

void PctRangeStrategy::end(std::uint64_t choices) {
  pct_->end(choices);
  if (!fixed_) steps_ = std::max(steps_, choices);
}

}  // namespace weft::sim
