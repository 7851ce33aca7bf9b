// Bounded exhaustive search: a depth-first walk of the tree of choices.
// Each schedule replays the previous one's prefix and takes the next
// untried alternative at its deepest open choice, so after finished() every
// schedule within the preemption bound (and the delay bound) has run
// exactly once. It needs a
// deterministic body (the same choices give the same choice points); a
// body that offers something else at a replayed choice is reported as a
// ReplayDivergence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/strategy.h"

namespace weft::sim {

class DfsStrategy final : public Strategy {
 public:
  static constexpr int kUnbounded = -1;
  // `preemption_bound`: the most preemptions a schedule may make
  // (kUnbounded: none). Continuing the running strand is tried first, so
  // schedules come in the order of their first preemption's depth.
  // `delay_bound` (Emmi et al., POPL 2011): the most delays a schedule may
  // make, a delay being one step past the strand a round-robin scheduler
  // would run (the running strand, else the next id after it, wrapping):
  // picking the k-th strand in that order costs k delays. Value choices
  // cost nothing under either bound.
  explicit DfsStrategy(int preemption_bound = kUnbounded,
                       int delay_bound = kUnbounded)
      : bound_(preemption_bound), delay_bound_(delay_bound) {}

  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  bool finished() const override { return done_; }
  std::string name() const override { return "dfs"; }
  std::string environment() const override;
  std::string coverage_note() const override;

  // Schedules completed so far (each a distinct path of the tree).
  std::uint64_t schedules() const { return schedules_; }
  // Whether the preemption bound cut off a branch: if not, the search is
  // complete, not merely complete within the bound.
  bool bound_reached() const { return bound_reached_; }

 private:
  struct Frame {
    ChoiceKind kind;
    bool is_value;
    std::uint32_t count;
    std::int64_t current;  // index of the running strand, or -1
    std::uint32_t tries;   // alternatives to try (the bounds may cut some)
    std::uint32_t start;   // index a round-robin scheduler would run
    std::size_t next = 0;  // the one taken now, in the order tried
    // Under a delay bound only: the alternatives within it, in the order
    // tried (without one, alternative() computes them).
    std::vector<std::uint32_t> order;
  };
  Frame open(const ChoicePoint& point) const;
  // The index of the k-th alternative tried: the running strand first,
  // then the others in index order. O(1), so a frame costs the same
  // whatever the number of strands.
  static std::uint32_t alternative(const Frame& f, std::size_t k);
  // Delays of picking index `i`: its distance in round-robin order from
  // `start`. Value choices cost none.
  static std::uint32_t delay_cost(const Frame& f, std::uint32_t i);

  int bound_;
  int delay_bound_;
  int delays_ = 0;  // along the current schedule
  std::vector<Frame> path_;
  std::size_t depth_ = 0;  // choices made in the current schedule
  int preemptions_ = 0;    // along the current schedule
  std::uint64_t schedules_ = 0;
  bool done_ = false;
  bool bound_reached_ = false;
};

}  // namespace weft::sim
