// Bounded exhaustive search: a depth-first walk of the tree of choices.
// Each schedule replays the previous one's prefix and takes the next
// untried alternative at its deepest open choice, so after finished() every
// schedule within the preemption bound (and the delay bound) has run
// exactly once. It needs a
// deterministic body (the same choices give the same choice points); a
// body that offers something else at a replayed choice is reported as a
// ReplayDivergence.
//
// Split across shards, shard i of n takes a deterministic share of the
// tree, decided by its shape alone: every shard follows the spine (the
// first alternative, going on with the running strand, at every choice)
// and the other alternatives along it are dealt round robin, one subtree
// to one shard in turn, so the shares are disjoint and their union is the
// tree. The spine's own schedules are run by every shard and counted by
// the first (counts_last()). save() and restore() carry the walk's state
// for a checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/state_bytes.h"
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
  bool split(std::uint64_t index, std::uint64_t total) override;
  bool counts_last() const override { return counts_last_; }
  // Each choice's rank in the order tried (the running strand, then the
  // others by id): the walk's order. Empty under a delay bound, whose
  // order needs the enabled set the schedule does not keep.
  std::vector<std::uint32_t> order_key(const Schedule& schedule) const override;
  std::optional<std::string> save() const override;
  void restore(std::string_view state, std::size_t base) override;
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
    // On the spine (group > 1 shards reach this frame; this one is `rank`
    // of them; `offset` side alternatives were dealt above it): this
    // shard tries alternative 0, then first, first + group, ... (in the
    // order tried). Off it (group 1): every alternative.
    std::uint32_t first = 0;
    std::uint64_t offset = 0;
    std::uint64_t group = 1;
    std::uint64_t rank = 0;
  };
  Frame open(const ChoicePoint& point) const;
  // The index of the k-th alternative tried: the running strand first,
  // then the others in index order. O(1), so a frame costs the same
  // whatever the number of strands.
  static std::uint32_t alternative(const Frame& f, std::size_t k);
  // Delays of picking index `i`: its distance in round-robin order from
  // `start`. Value choices cost none.
  static std::uint32_t delay_cost(const Frame& f, std::uint32_t i);
  // Deals the side alternatives of a spine frame among the group.
  void share(Frame& f) const;
  // The alternative tried after f.next (f.tries when none is left).
  static std::size_t after(const Frame& f);
  static Frame read_frame(StateReader& r);

  int bound_;
  int delay_bound_;
  int delays_ = 0;  // along the current schedule
  std::vector<Frame> path_;
  std::size_t depth_ = 0;  // choices made in the current schedule
  int preemptions_ = 0;    // along the current schedule
  std::uint64_t schedules_ = 0;
  bool done_ = false;
  bool bound_reached_ = false;
  std::uint64_t shard_index_ = 0;
  std::uint64_t shard_total_ = 1;
  bool counts_last_ = true;
};

}  // namespace weft::sim
