// Exhaustive search with dynamic partial-order reduction: source sets and
// sleep sets (Abdulla et al., "Optimal dynamic partial order reduction",
// POPL 2014, Algorithm 1). Unbounded, it runs at least one schedule of
// every Mazurkiewicz trace (schedules equal up to swapping adjacent
// independent operations, sim/choice.h's dependent()) and finishes; with a
// preemption bound it adds conservative backtrack points where the bound
// cuts a reversal (Coons et al., OOPSLA 2013), see docs/architecture.md for
// what that guarantees. Same contract as DfsStrategy: a deterministic body.
//
// The search expands its first choice point with two or more alternatives
// (every node above it has one, so every run reaches it by the same
// prefix) fully: every alternative the bound allows, not a source set,
// each with the sleep set that full expansion gives it (the alternatives
// before it whose next operation commutes with its own). Below that node
// it runs ordinary source-set DPOR. So the tree does not depend on how the
// search is split: across n shards, that node's alternatives are dealt
// round robin (the k-th to shard k mod n), the shards' complete (not
// sleep-blocked) runs are pairwise inequivalent, together cover every
// Mazurkiewicz trace, and their counts add up to the unsharded count
// (docs/architecture.md). save() and restore() carry the walk for a
// checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/state_bytes.h"
#include "sim/strategy.h"

namespace weft::sim {

class DporStrategy final : public Strategy {
 public:
  static constexpr int kUnbounded = -1;
  explicit DporStrategy(int preemption_bound = kUnbounded)
      : bound_(preemption_bound) {}

  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  bool finished() const override { return done_; }
  bool split(std::uint64_t index, std::uint64_t total) override;
  bool counts_last() const override { return counts_last_; }
  std::optional<std::string> save() const override;
  void restore(std::string_view state, std::size_t base) override;
  bool sees_forced_points() const override { return true; }
  std::string name() const override { return "dpor"; }
  std::string environment() const override;
  std::string coverage_note() const override;

  std::uint64_t schedules() const { return schedules_; }
  // Whether the bound stopped a reversal or a branch somewhere.
  bool bound_reached() const { return bound_reached_; }
  // Runs that ended with every enabled strand asleep (redundant runs).
  std::uint64_t sleep_blocked() const { return sleep_blocked_; }
  // Whether the last run ended with every enabled strand asleep.
  bool last_run_redundant() const { return blocked_; }
  // Strand alternatives a bounded DFS would have taken at the contested
  // choice points this search opened (two or more allowed), and how many
  // of them it took.
  std::uint64_t branches_offered() const { return offered_; }
  std::uint64_t branches_taken() const { return taken_; }

 private:
  struct Node {
    bool is_value = false;
    ChoiceKind kind = ChoiceKind::kSpawn;
    std::uint32_t count = 0;
    std::uint32_t value = 0;  // value nodes: the value taken now
    bool dead = false;        // past a sleep-set block: no branching
    bool contested = false;   // the bound allows two or more here
    bool split = false;       // where shards divide: every `total`-th is ours
    std::vector<StrandId> enabled;  // strand nodes: as offered
    StrandId current = kNoStrand;
    bool current_enabled = false;
    std::vector<StrandId> backtrack;  // to explore, in order; [next] now
    std::size_t next = 0;
    // Recomputed by every run through the node:
    std::vector<StrandId> sleep;
    int preemptions = 0;  // made before this node
  };
  struct Event {
    StrandId strand;
    PendingOp op;
    std::size_t node;                  // index in path_
    std::uint32_t local;               // 1-based index among its strand's
    std::vector<std::uint32_t> clock;  // vector clock, by strand id
  };

  std::uint32_t choose_value(const ChoicePoint& point);
  Node& strand_node(const ChoicePoint& point);
  StrandId first_choice(Node& node);
  void note_appearances(const ChoicePoint& point);
  void record_event(StrandId picked, const PendingOp& op, std::size_t node);
  void reverse_race(std::size_t e, std::size_t j);
  std::vector<StrandId> initials(std::size_t e, std::size_t j) const;
  bool allowed(const Node& n, StrandId q) const;
  void add_backtrack(std::size_t node, StrandId q);
  void next_sleep(const Node& n, StrandId picked, const ChoicePoint& point);
  bool happens_before(std::size_t a, std::size_t b) const;
  // Makes `n`, the first node with two or more alternatives, the split:
  // expanded fully, its alternatives dealt to the shards.
  void make_split(Node& n);
  bool advance(Node& b);
  static Node read_node(StateReader& r);

  int bound_;
  std::vector<Node> path_;
  std::size_t depth_ = 0;
  int preemptions_ = 0;
  bool blocked_ = false;  // this run hit a sleep-set block
  // Per run:
  std::vector<Event> events_;
  std::vector<StrandId> sleep_next_;  // the sleep set of the next node
  std::vector<StrandId> present_;     // strands present at the last node
  std::vector<std::int64_t> appeared_after_;  // by strand: event, or -1
  std::vector<std::int64_t> last_event_;      // by strand: event, or -1

  std::uint64_t schedules_ = 0;
  std::uint64_t sleep_blocked_ = 0;
  std::uint64_t offered_ = 0;
  std::uint64_t taken_ = 0;
  bool done_ = false;
  bool bound_reached_ = false;
  std::uint64_t shard_index_ = 0;
  std::uint64_t shard_total_ = 1;
  bool split_found_ = false;  // the split node is on path_
  bool split_seen_ = false;   // the current run reached the split node
  bool idle_run_ = false;     // the split node has nothing for this shard
  bool counts_last_ = true;
};

}  // namespace weft::sim
