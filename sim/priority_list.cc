#include "sim/priority_list.h"

#include "sim/random.h"

namespace weft::sim {

void PriorityList::clear() {
  for (StrandId id : listed_) nodes_[id] = Node{};
  listed_.clear();
  root_ = kNil;
  draws_ = 0;
}

void PriorityList::pull(std::uint32_t n) {
  Node& node = nodes_[n];
  node.size = 1 + size_of(node.left) + size_of(node.right);
  node.enabled_below =
      (node.enabled ? 1 : 0) + enabled_of(node.left) + enabled_of(node.right);
  if (node.left != kNil) nodes_[node.left].parent = n;
  if (node.right != kNil) nodes_[node.right].parent = n;
}

void PriorityList::fix_upwards(std::uint32_t n) {
  for (; n != kNil; n = nodes_[n].parent) pull(n);
}

// All of `a` before all of `b`.
std::uint32_t PriorityList::merge(std::uint32_t a, std::uint32_t b) {
  if (a == kNil) return b;
  if (b == kNil) return a;
  if (nodes_[a].heap > nodes_[b].heap) {
    nodes_[a].right = merge(nodes_[a].right, b);
    pull(a);
    return a;
  }
  nodes_[b].left = merge(a, nodes_[b].left);
  pull(b);
  return b;
}

// The first `k` nodes of `t` to `a`, the rest to `b`.
void PriorityList::split(std::uint32_t t, std::size_t k, std::uint32_t& a,
                         std::uint32_t& b) {
  if (t == kNil) {
    a = b = kNil;
    return;
  }
  const std::size_t left = size_of(nodes_[t].left);
  if (k <= left) {
    split(nodes_[t].left, k, a, nodes_[t].left);
    pull(t);
    b = t;
  } else {
    split(nodes_[t].right, k - left - 1, nodes_[t].right, b);
    pull(t);
    a = t;
  }
}

void PriorityList::make_single(StrandId id, bool enabled) {
  if (id >= nodes_.size()) nodes_.resize(id + 1);
  Node& node = nodes_[id];
  if (!node.listed) {
    node.listed = true;
    listed_.push_back(id);
    std::uint64_t state = draws_++;
    node.heap = static_cast<std::uint32_t>(splitmix64(state) >> 32);
  }
  node.left = node.right = node.parent = kNil;
  node.enabled = enabled;
  pull(id);
}

void PriorityList::insert(std::size_t pos, StrandId id, bool enabled) {
  make_single(id, enabled);
  std::uint32_t a = kNil, b = kNil;
  split(root_, pos, a, b);
  root_ = merge(merge(a, id), b);
  nodes_[root_].parent = kNil;
}

// Takes a listed `id` out of the tree.
void PriorityList::detach(StrandId id) {
  Node& node = nodes_[id];
  const std::uint32_t parent = node.parent;
  const std::uint32_t joined = merge(node.left, node.right);
  if (joined != kNil) nodes_[joined].parent = parent;
  if (parent == kNil) {
    root_ = joined;
  } else {
    Node& p = nodes_[parent];
    (p.left == id ? p.left : p.right) = joined;
    fix_upwards(parent);
  }
}

void PriorityList::move_to_back(StrandId id, bool enabled) {
  if (contains(id)) detach(id);
  make_single(id, enabled);
  root_ = merge(root_, id);
  nodes_[root_].parent = kNil;
}

void PriorityList::set_enabled(StrandId id, bool enabled) {
  if (!contains(id) || nodes_[id].enabled == enabled) return;
  nodes_[id].enabled = enabled;
  for (std::uint32_t n = id; n != kNil; n = nodes_[n].parent)
    nodes_[n].enabled_below += enabled ? 1 : static_cast<std::uint32_t>(-1);
}

StrandId PriorityList::first_enabled() const {
  std::uint32_t n = root_;
  if (enabled_of(n) == 0) return kNoStrand;
  for (;;) {
    const Node& node = nodes_[n];
    if (enabled_of(node.left) > 0)
      n = node.left;
    else if (node.enabled)
      return n;
    else
      n = node.right;
  }
}

}  // namespace weft::sim
