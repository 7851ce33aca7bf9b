#include "sim/pos_strategy.h"

namespace weft::sim {

void PosStrategy::begin(std::uint64_t seed) {
  rng_.reseed(seed);
  priority_.clear();
  last_ = kNoStrand;
}

// Drawn on first sight; 0 is kept to mean "not drawn".
std::uint64_t& PosStrategy::priority(StrandId id) {
  if (priority_.size() <= id) priority_.resize(id + 1, 0);
  if (priority_[id] == 0) priority_[id] = rng_.next() | 1;
  return priority_[id];
}

std::uint32_t PosStrategy::choose(const ChoicePoint& point) {
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  if (last_ != kNoStrand) {
    // The operation last_op_ of last_ has run: its racing pending
    // operations, and last_'s next one, get new priorities.
    priority(last_) = rng_.next() | 1;
    for (StrandId q : point.strands)
      if (q != last_ && q < priority_.size() && priority_[q] != 0 &&
          dependent(q, point.pending(q), last_, last_op_))
        priority_[q] = rng_.next() | 1;
  }
  std::uint32_t best = 0;
  for (std::uint32_t i = 1; i < point.count; ++i)
    if (priority(point.strands[i]) > priority(point.strands[best])) best = i;
  last_ = point.strands[best];
  last_op_ = point.pending(last_);
  return best;
}

}  // namespace weft::sim
