#include "sim/mix_strategy.h"

#include <stdexcept>

namespace weft::sim {

MixStrategy::MixStrategy(std::vector<Part> parts)
    : ForwardingStrategy(nullptr), parts_(std::move(parts)) {
  for (const Part& p : parts_) total_ += p.weight;
  if (total_ == 0) throw std::invalid_argument("a mix needs a weight above 0");
  set_inner(parts_.front().strategy.get());
}

void MixStrategy::begin(std::uint64_t seed) {
  std::uint64_t slot = seed % total_;
  for (Part& p : parts_) {
    if (slot < p.weight) {
      set_inner(p.strategy.get());
      break;
    }
    slot -= p.weight;
  }
  inner()->begin(seed);
}

}  // namespace weft::sim
