// PCT's priority order: a list of strand ids, highest priority first, into
// which a strand is inserted at any position or moved to the end, each
// strand marked enabled or not; the first enabled strand is found in
// O(log n), and so is every update. An implicit treap (a randomized
// balanced tree ordered by position) whose nodes count the enabled strands
// below them. Its balancing draws are a fixed hash of the insertion count:
// they never touch a strategy's random stream, and the list they hold is
// the same whatever the draws.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/choice.h"

namespace weft::sim {

class PriorityList {
 public:
  void clear();
  std::size_t size() const { return size_of(root_); }
  bool contains(StrandId id) const {
    return id < nodes_.size() && nodes_[id].listed;
  }
  // Inserts an absent `id` before the strand at `pos` (pos in [0, size()];
  // size() appends).
  void insert(std::size_t pos, StrandId id, bool enabled);
  // Moves `id` to the end (lowest priority), appending it if absent.
  void move_to_back(StrandId id, bool enabled);
  // Marks a listed `id` enabled or not; an absent one is ignored.
  void set_enabled(StrandId id, bool enabled);
  // The highest-priority enabled strand, or kNoStrand.
  StrandId first_enabled() const;
  // The highest-priority strand for which `pred(id)` holds, or kNoStrand:
  // a walk in order, O(n), for points the enabled marks do not describe.
  template <class Pred>
  StrandId first_where(Pred&& pred) const;

 private:
  static constexpr std::uint32_t kNil = 0xffffffffu;
  struct Node {
    std::uint32_t left = kNil, right = kNil, parent = kNil;
    std::uint32_t heap = 0;           // balancing draw: a max-heap
    std::uint32_t size = 0;           // nodes in this subtree
    std::uint32_t enabled_below = 0;  // enabled nodes in this subtree
    bool listed = false;
    bool enabled = false;
  };
  std::uint32_t size_of(std::uint32_t n) const {
    return n == kNil ? 0 : nodes_[n].size;
  }
  std::uint32_t enabled_of(std::uint32_t n) const {
    return n == kNil ? 0 : nodes_[n].enabled_below;
  }
  void pull(std::uint32_t n);
  void fix_upwards(std::uint32_t n);
  std::uint32_t merge(std::uint32_t a, std::uint32_t b);
  void split(std::uint32_t t, std::size_t k, std::uint32_t& a,
             std::uint32_t& b);
  void make_single(StrandId id, bool enabled);
  void detach(StrandId id);

  std::vector<Node> nodes_;       // by strand id
  std::vector<StrandId> listed_;  // ids listed, to clear in O(size)
  std::uint32_t root_ = kNil;
  std::uint64_t draws_ = 0;
};

template <class Pred>
StrandId PriorityList::first_where(Pred&& pred) const {
  // In-order walk with parent links, no allocation.
  std::uint32_t n = root_;
  if (n == kNil) return kNoStrand;
  while (nodes_[n].left != kNil) n = nodes_[n].left;
  while (n != kNil) {
    if (pred(static_cast<StrandId>(n))) return n;
    if (nodes_[n].right != kNil) {
      n = nodes_[n].right;
      while (nodes_[n].left != kNil) n = nodes_[n].left;
    } else {
      std::uint32_t from = n;
      n = nodes_[n].parent;
      while (n != kNil && nodes_[n].right == from) {
        from = n;
        n = nodes_[n].parent;
      }
    }
  }
  return kNoStrand;
}

}  // namespace weft::sim
