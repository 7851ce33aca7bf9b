// Selectively uniform random walk (SURW; Zhao et al., ASPLOS 2025). A plain
// random walk switches early and often, so a strand with many operations
// left is likely to run to the end before a strand with few gets a turn;
// interleavings of a few events among many (a checker's two reads among
// fifty setters' writes) are then almost never sampled. SURW picks each
// enabled strand with probability proportional to the number of choice
// points it still has ahead, which makes every interleaving of those events
// equally likely. The counts come from a profile: each strand's (by id,
// ids being handed out in creation order) largest number of contested
// choice points in the schedules run so far. The profile is part of
// environment(), so a printed command replays the schedule exactly. The
// weights of the runnable strands live in a WeightTree, so a draw costs
// O(log n) in the number of strands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/random.h"
#include "sim/runnable_view.h"
#include "sim/strategy.h"
#include "sim/weight_tree.h"

namespace weft::sim {

class SurwStrategy final : public Strategy {
 public:
  // `profile`: the starting counts by strand id (empty: learn them).
  explicit SurwStrategy(std::vector<std::uint32_t> profile = {})
      : profile_(std::move(profile)) {}

  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  void runnable_changed(StrandId id, bool runnable) override;
  std::string name() const override { return "surw"; }
  std::string environment() const override;
  std::unique_ptr<Strategy> replica() const override {
    return std::make_unique<SurwStrategy>(used_);
  }

  // "3,2*49,5": counts by strand id, a run of equal counts as count*times.
  static std::string encode(const std::vector<std::uint32_t>& profile);
  // The inverse; throws std::invalid_argument on a malformed string.
  static std::vector<std::uint32_t> decode(const std::string& text);

 private:
  std::uint32_t remaining(StrandId id) const;
  std::uint32_t pick(const ChoicePoint& point);

  std::vector<std::uint32_t> profile_;  // learned, for the next schedule
  std::vector<std::uint32_t> used_;     // the profile this schedule uses
  std::vector<std::uint32_t> seen_;     // this schedule's counts so far
  Rng rng_;
  RunnableView runnable_;
  WeightTree weights_;  // remaining() of each runnable strand, else 0
};

}  // namespace weft::sim
