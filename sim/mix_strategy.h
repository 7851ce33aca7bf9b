// A portfolio of strategies that takes turns by seed: with weights w1..wn,
// schedule seeds s with s mod (w1+...+wn) in the i-th block of the weights
// go to strategy i. Each part keeps what it learns (PCT's k, SURW's
// profile) across its own schedules, and the active part names the failing
// schedule (name(), environment(), replica()), so a report says which
// strategy found the bug and its replay command selects that strategy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/strategy.h"

namespace weft::sim {

class MixStrategy final : public ForwardingStrategy {
 public:
  struct Part {
    std::unique_ptr<Strategy> strategy;
    std::uint32_t weight;
  };
  explicit MixStrategy(std::vector<Part> parts);
  void begin(std::uint64_t seed) override;
  // A mix of samplers never finishes, whichever part is active.
  bool finished() const override { return false; }

 private:
  std::vector<Part> parts_;
  std::uint64_t total_ = 0;
};

}  // namespace weft::sim
