// A strategy's own copy of the scheduler's runnable set, kept up to date
// from Strategy::runnable_changed, so the strategy can answer a choice
// point from its own structures in O(1) or O(log n) instead of scanning
// point.strands. matches() says whether a point's strands are this set (less
// the strand the scheduler left out at a yield); when they are not (a
// wrapping strategy that does not forward runnable_changed, a point made up
// by a test), the strategy must take its plain path over point.strands.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/choice.h"

namespace weft::sim {

class RunnableView {
 public:
  void clear() {
    runnable_.clear();
    count_ = 0;
  }
  void set(StrandId id, bool runnable) {
    if (id >= runnable_.size()) runnable_.resize(id + 1, 0);
    if ((runnable_[id] != 0) == runnable) return;
    runnable_[id] = runnable ? 1 : 0;
    if (runnable)
      ++count_;
    else
      --count_;
  }
  bool runnable(StrandId id) const {
    return id < runnable_.size() && runnable_[id] != 0;
  }
  std::size_t count() const { return count_; }

  // The strand the scheduler leaves out of point.strands: the running one
  // at a kYield point when another strand can run. Else kNoStrand.
  StrandId left_out(const ChoicePoint& point) const {
    return point.kind == ChoiceKind::kYield && runnable(point.current) &&
                   count_ > 1
               ? point.current
               : kNoStrand;
  }
  // Whether point.strands is this set less left_out(point). Checked by
  // size, which any strategy that is not told of every change misses.
  bool matches(const ChoicePoint& point) const {
    if (point.is_value) return false;
    const std::size_t left = left_out(point) != kNoStrand ? 1 : 0;
    return count_ == point.strands.size() + left;
  }
  // The index of `id` in point.strands (ascending ids), or point.count.
  // Where the ids run without gaps (every strand runnable, the common
  // case), it is their difference; where they are spread evenly, the
  // interpolated place; else a binary search. The search is O(log n)
  // dependent loads that miss the cache at 1000 strands, the guesses two.
  static std::uint32_t index_of(const ChoicePoint& point, StrandId id) {
    const StrandId* const first = point.strands.data();
    const std::size_t n = point.strands.size();
    if (n == 0 || id < first[0] || id > first[n - 1]) return point.count;
    const std::uint64_t span = first[n - 1] - first[0];
    const std::uint64_t from_first = id - first[0];
    if (span == n - 1) return static_cast<std::uint32_t>(from_first);
    if (n >= 32) {
      const std::size_t guess = from_first * (n - 1) / span;
      if (first[guess] == id) return static_cast<std::uint32_t>(guess);
    }
    return search(point, id);
  }

 private:
  // A lower bound without branches on the data (at 1000 strands the ten
  // branches of std::lower_bound are coin flips to the predictor).
  static std::uint32_t search(const ChoicePoint& point, StrandId id) {
    const StrandId* const first = point.strands.data();
    std::size_t n = point.strands.size();
    const StrandId* base = first;
    while (n > 1) {
      const std::size_t half = n / 2;
      base = base[half] < id ? base + half : base;
      n -= half;
    }
    const auto i =
        static_cast<std::size_t>(base - first) + (*base < id ? 1 : 0);
    if (i == point.strands.size() || first[i] != id) return point.count;
    return static_cast<std::uint32_t>(i);
  }

  std::vector<std::uint8_t> runnable_;  // by strand id
  std::size_t count_ = 0;
};

}  // namespace weft::sim
