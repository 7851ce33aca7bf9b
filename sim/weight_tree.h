// Weights by strand id (a Fenwick tree): setting one, their total, and the
// strand at which the running sum of weights in id order passes a value,
// each in O(log n). SURW draws a strand in proportion to its weight with it
// without summing every enabled strand's weight at each choice point.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/choice.h"

namespace weft::sim {

class WeightTree {
 public:
  void clear() {
    tree_.assign(tree_.size(), Node{});
    weight_.assign(weight_.size(), 0);
    total_ = 0;
  }
  std::uint64_t weight(StrandId id) const {
    return id < weight_.size() ? weight_[id] : 0;
  }
  void set(StrandId id, std::uint64_t w) {
    if (id >= weight_.size()) {
      if (w == 0) return;
      grow(id);
    }
    const std::uint64_t delta = w - weight_[id];  // modulo 2^64
    const std::uint32_t count = (w != 0 ? 1u : 0u) - (weight_[id] != 0);
    weight_[id] = w;
    total_ += delta;
    for (std::size_t i = id + 1; i < tree_.size(); i += i & (0 - i)) {
      tree_[i].sum += delta;
      tree_[i].count += count;
    }
  }
  std::uint64_t total() const { return total_; }

  struct Found {
    StrandId id;
    std::uint32_t rank;  // ids below `id` with a non-zero weight
  };
  // The smallest id whose weight and the weights of all smaller ids sum to
  // more than r, and its rank among the ids of non-zero weight (its index
  // among them in id order). Needs r < total(). Branch-free descent: its
  // comparisons are coin flips a branch predictor would miss.
  Found find(std::uint64_t r) const {
    std::size_t pos = 0;
    std::uint32_t rank = 0;
    // r < total() = the sum at the top node, which is never taken.
    for (std::size_t step = weight_.size() / 2; step > 0; step >>= 1) {
      const Node& n = tree_[pos + step];
      const std::uint64_t take = 0 - static_cast<std::uint64_t>(n.sum <= r);
      pos += step & take;
      r -= n.sum & take;
      rank += n.count & static_cast<std::uint32_t>(take);
    }
    return {static_cast<StrandId>(pos), rank};
  }

 private:
  struct Node {
    std::uint64_t sum = 0;    // Fenwick sum of weights
    std::uint32_t count = 0;  // Fenwick count of non-zero weights
  };
  // Capacity to the next power of two above `id`; rebuilds in O(n).
  void grow(StrandId id) {
    std::size_t cap = weight_.empty() ? 4 : weight_.size();
    while (cap <= id) cap *= 2;
    weight_.resize(cap, 0);
    tree_.assign(cap + 1, Node{});
    for (std::size_t i = 1; i <= cap; ++i) {
      tree_[i].sum += weight_[i - 1];
      tree_[i].count += weight_[i - 1] != 0 ? 1 : 0;
      const std::size_t up = i + (i & (0 - i));
      if (up <= cap) {
        tree_[up].sum += tree_[i].sum;
        tree_[up].count += tree_[i].count;
      }
    }
  }

  std::vector<Node> tree_;             // 1-based
  std::vector<std::uint64_t> weight_;  // by id; size a power of two
  std::uint64_t total_ = 0;
};

}  // namespace weft::sim
