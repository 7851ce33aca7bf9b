#include "sim/mix_strategy.h"

#include <stdexcept>

namespace weft::sim {

MixStrategy::MixStrategy(std::vector<Part> parts) : parts_(std::move(parts)) {
  for (const Part& p : parts_) total_ += p.weight;
  if (total_ == 0) throw std::invalid_argument("a mix needs a weight above 0");
  active_ = parts_.front().strategy.get();
}

void MixStrategy::begin(std::uint64_t seed) {
  std::uint64_t slot = seed % total_;
  for (Part& p : parts_) {
    if (slot < p.weight) {
      active_ = p.strategy.get();
      break;
    }
    slot -= p.weight;
  }
  active_->begin(seed);
}

}  // namespace weft::sim
