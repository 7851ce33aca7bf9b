// SurwStrategy's indexes, so a choice costs O(log n) in the number of
// strands: the known runnable strands ordered by priority (apart by whether
// their next event is interesting, with those that expect none and those
// exempt from the lazy rule), the ones without a priority, and a Fenwick
// tree of the interesting events each expects.
//
// Holding back. The scanning SURW walked down the priorities marking every
// strand about to make an interesting event until it met the designated
// one or one that is not: O(n) marks per choice. Here a walk that stops at
// a strand with key k marks none; it lowers floor_ to k, and every
// interesting strand above the floor counts as held back (held()). The
// rule is only true of strands whose state has not changed since: so
// before a strand's next event, priority or runnability changes, fix()
// marks it if the rule held it back, and after, unfix() exempts it from
// the rule if it was not held back and the rule would now hold it; a walk
// clears the exemptions of the strands it passes (the exempt_ set, above
// its stop). A release clears the marks and the floor.
#include <algorithm>

#include "sim/surw_strategy.h"

namespace weft::sim {

SurwStrategy::Key SurwStrategy::key(StrandId id, std::uint64_t priority) {
  return {priority, 0xffffffffu - id};
}

bool SurwStrategy::held(StrandId id) const {
  const StrandState& s = strands_[id];
  return s.marked || (lazy_ && !s.exempt && is_interesting(id) &&
                      key(id, s.priority) > floor_);
}

void SurwStrategy::hold(StrandId id) {
  if (strands_[id].marked) return;
  strands_[id].marked = true;
  marked_.push_back(id);
  reindex(id);
}

bool SurwStrategy::lazily_held(StrandId id) const {
  const StrandState& s = strands_[id];
  return lazy_ && !s.marked && !s.exempt && is_interesting(id) &&
         key(id, s.priority) > floor_;
}

// Before a change to the strand's next event, priority or runnability:
// held back by the rule, it is marked, as the change may end the rule's
// hold. Returns whether it was held back.
bool SurwStrategy::fix(StrandId id) {
  if (lazily_held(id)) hold(id);
  return held(id);
}

// After the change: a strand that was not held back and that the rule
// would now hold is exempt from it.
void SurwStrategy::unfix(StrandId id, bool was_held) {
  if (was_held || !lazily_held(id)) return;
  strands_[id].exempt = true;
  reindex(id);
}

void SurwStrategy::release_all() {
  lazy_ = false;
  std::vector<StrandId> marked;
  marked.swap(marked_);
  for (StrandId id : marked) {
    strands_[id].marked = false;
    reindex(id);
  }
}

// A walk that stopped at the strand keyed `floor`: it passed (and held
// back) every interesting strand above it that was not already.
void SurwStrategy::hold_above(const Key& floor) {
  floor_ = lazy_ ? std::min(floor_, floor) : floor;
  lazy_ = true;
  std::vector<StrandId> ids;
  for (auto it = exempt_.rbegin(); it != exempt_.rend() && *it > floor; ++it)
    ids.push_back(id_of(*it));
  for (StrandId id : ids) {
    strands_[id].exempt = false;
    reindex(id);
  }
}

// The strands a walk down to `floor` (null: to the end) passes that expect
// no interesting event count one, as the scanning walk did.
void SurwStrategy::bump_above(const ChoicePoint& point, const Key* floor) {
  const StrandId out = runnable_.left_out(point);
  std::vector<StrandId> ids;
  for (auto it = zero_.rbegin();
       it != zero_.rend() && (floor == nullptr || *it > *floor); ++it) {
    const StrandId id = id_of(*it);
    if (id != out && !held(id)) ids.push_back(id);
  }
  for (StrandId id : ids) set_left(id, 1);
}

void SurwStrategy::set_left(StrandId id, std::uint32_t left) {
  strands_[id].left = left;
  reindex(id);
}

void SurwStrategy::reset_priorities() {
  for (StrandId id = 0; id < strands_.size(); ++id)
    if (strands_[id].known) fix(id);
  lazy_ = false;  // every strand held back is marked
  for (StrandId id = 0; id < strands_.size(); ++id)
    if (strands_[id].priority != 0) {
      strands_[id].priority = 0;
      reindex(id);
    }
}

// Where `id` belongs: 0 nowhere, 1 plain_, 2 interesting_, 3 unpriced_.
void SurwStrategy::reindex(StrandId id) {
  StrandState& s = strands_[id];
  const bool live = s.known && runnable_.runnable(id);
  const std::uint32_t weight = live ? s.left : 0;
  if (weight != s.weight) {
    fenwick_add(id, static_cast<std::int64_t>(weight) -
                        static_cast<std::int64_t>(s.weight));
    s.weight = weight;
  }
  std::uint8_t where = 0;
  if (live && !s.marked)
    where = s.priority == 0 ? 3 : is_interesting(id) ? 2 : 1;
  const bool zero = where == 2 && s.left == 0;
  const bool exempt = where == 2 && s.exempt;
  if (where == s.indexed && zero == s.in_zero && exempt == s.in_exempt &&
      (where == 0 || where == 3 || s.priority == s.indexed_priority))
    return;
  const Key old = key(id, s.indexed_priority);
  if (s.indexed == 1) plain_.erase(old);
  if (s.indexed == 2) interesting_.erase(old);
  if (s.indexed == 3) unpriced_.erase(id);
  if (s.in_zero) zero_.erase(old);
  if (s.in_exempt) exempt_.erase(old);
  s.indexed = where;
  s.in_zero = zero;
  s.in_exempt = exempt;
  s.indexed_priority = s.priority;
  const Key k = key(id, s.priority);
  if (where == 1) plain_.insert(k);
  if (where == 2) interesting_.insert(k);
  if (where == 3) unpriced_.insert(id);
  if (zero) zero_.insert(k);
  if (exempt) exempt_.insert(k);
}

// A Fenwick tree over strand ids of the known runnable strands' events
// left, grown (and rebuilt) by doubling.
void SurwStrategy::fenwick_add(StrandId id, std::int64_t delta) {
  std::size_t size = fenwick_.empty() ? 0 : fenwick_.size() - 1;
  if (id >= size) {
    while (size <= id) size = size == 0 ? 64 : 2 * size;
    fenwick_.assign(size + 1, 0);
    for (StrandId i = 0; i < strands_.size(); ++i)
      if (i != id && strands_[i].weight != 0)
        for (std::size_t k = i + 1; k <= size; k += k & (~k + 1))
          fenwick_[k] += strands_[i].weight;
  }
  for (std::size_t k = id + 1; k <= size; k += k & (~k + 1))
    fenwick_[k] += static_cast<std::uint64_t>(delta);
  fenwick_sum_ += static_cast<std::uint64_t>(delta);
}

std::uint64_t SurwStrategy::fenwick_total() const { return fenwick_sum_; }

// The id whose weight covers position r of the prefix sums (r < total).
StrandId SurwStrategy::fenwick_find(std::uint64_t r) const {
  // Without branches on the data (a descent's ten branches at 1000
  // strands are coin flips to the predictor).
  const std::size_t size = fenwick_.size() - 1;
  const std::uint64_t* tree = fenwick_.data();
  std::size_t pos = 0;
  for (std::size_t step = size; step > 0; step /= 2) {
    const std::size_t next = pos + step;
    const std::uint64_t v = next <= size ? tree[next] : UINT64_MAX;
    const std::uint64_t take = v <= r ? ~std::uint64_t{0} : 0;
    pos += step & take;
    r -= v & take;
  }
  return static_cast<StrandId>(pos);
}

}  // namespace weft::sim
