#include "sim/mix_strategy.h"

#include <stdexcept>

namespace weft::sim {

MixStrategy::MixStrategy(std::vector<Part> parts, std::uint64_t lead)
    : ForwardingStrategy(nullptr), parts_(std::move(parts)), lead_(lead) {
  for (const Part& p : parts_) total_ += p.weight;
  if (total_ == 0) throw std::invalid_argument("a mix needs a weight above 0");
  set_inner(parts_.front().strategy.get());
}

void MixStrategy::begin(std::uint64_t seed) {
  std::uint64_t slot = begun_++ < lead_ ? 0 : seed % total_;
  for (Part& p : parts_) {
    if (slot < p.weight) {
      const bool crowded = p.crowded && most_strands_ > p.max_strands;
      set_inner(crowded ? p.crowded.get() : p.strategy.get());
      break;
    }
    slot -= p.weight;
  }
  strands_ = 0;
  inner()->begin(seed);
}

std::uint32_t MixStrategy::choose(const ChoicePoint& point) {
  saw(point.current);
  if (!point.strands.empty()) saw(point.strands.back());  // ascending ids
  return inner()->choose(point);
}

void MixStrategy::runnable_changed(StrandId id, bool runnable) {
  saw(id);
  inner()->runnable_changed(id, runnable);
}

void MixStrategy::end(std::uint64_t choices) {
  if (strands_ > most_strands_) most_strands_ = strands_;
  inner()->end(choices);
}

}  // namespace weft::sim
