#include "sim/surw_strategy.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace weft::sim {

// The order of two critical sections of one mutex is the order of their
// acquisitions, so sampling acquisitions uniformly samples the sections'
// orders uniformly (an attempt on a held mutex only blocks, and is left to
// priorities); an atomic access that one mutex guards in every access so far
// is ordered by that mutex's acquisitions, and one that none guards by
// nothing but itself.
bool SurwStrategy::interesting(const Locksets& locks, StrandId id,
                               ChoiceKind kind, const void* object) {
  if (kind == ChoiceKind::kLock) return locks.free(object);
  return kind == ChoiceKind::kAtomic && locks.unordered(id, object);
}

// With a target variable, the acquisitions stay interesting (they order
// the critical sections, which measured better on the lock-heavy programs
// than making mutexes targets too: twostage_3 11 schedules against 12,
// token_ring 6 against 10), and of the atomics only the target's accesses
// are: sampling one variable's accesses uniformly instead of every shared
// access found work_steal_queue in 9 schedules against 18. A target that
// one mutex guards in every access (in every schedule so far) adds no
// events: its accesses only follow the acquisitions of that mutex, and
// counting them weighed the strands that access it more often, away from
// uniform over the critical sections' orders (20 trials of the portfolio:
// token_ring 10 schedules against 5, twostage_100 227 against 203;
// docs/performance.md). Guarded in its writes alone is not enough: a read
// under another mutex, or none, may land between two writes.
bool SurwStrategy::interesting(const Locksets& locks, const void* target,
                               bool guarded, ChoiceKind kind,
                               const void* object) {
  if (kind == ChoiceKind::kLock) return locks.free(object);
  return kind == ChoiceKind::kAtomic && !guarded && target != nullptr &&
         object == target;
}

bool SurwStrategy::retries(ChoiceKind pending, const void* object,
                           ChoiceKind kind, const void* now) {
  return kind == pending && now == object &&
         (kind == ChoiceKind::kLock || kind == ChoiceKind::kWait);
}

// A lock operation right after a lock operation: a nested acquisition, or
// a retry after the mutex was held. There the strand draws a new priority:
// kept for the whole schedule, priorities would never let another strand
// in between two acquisitions, the interleaving a lock-order deadlock
// needs (deadlock01), nor reorder the strands queued on one mutex.
bool SurwStrategy::relock(ChoiceKind ran, ChoiceKind next) {
  return ran == ChoiceKind::kLock && next == ChoiceKind::kLock;
}

void SurwStrategy::begin(std::uint64_t seed) {
  rng_.reseed(seed);
  Rng pick = SurwTarget::draw_for(seed);
  const bool every =
      every_period_ != 0 && begun_ % every_period_ == every_period_ - 1;
  ++begun_;
  target_.begin(pick, fixed_target_.empty() ? nullptr : &fixed_target_, every);
  used_ = target_.active() ? target_.choice().counts : profile_;
  strands_.clear();
  locksets_.clear();
  lockers_.clear();
  designated_ = kNoStrand;
  last_picked_ = kNoStrand;
  stay_ = 0;
  lazy_ = false;
  marked_.clear();
  runnable_.clear();
  arrived_.clear();
  plain_.clear();
  interesting_.clear();
  zero_.clear();
  exempt_.clear();
  unpriced_.clear();
  fenwick_.clear();
  fenwick_sum_ = 0;
}

SurwStrategy::StrandState& SurwStrategy::state(StrandId id) {
  if (id >= strands_.size()) strands_.resize(id + 1);
  return strands_[id];
}

std::uint32_t SurwStrategy::expected(StrandId id) const {
  return id < used_.size() ? used_[id] : 0;
}

bool SurwStrategy::is_interesting(StrandId id) const {
  const StrandState& s = strands_[id];
  if (s.fresh) return false;
  return target_.active()
             ? interesting(locksets_,
                           target_.is_target(s.object) ? s.object : nullptr,
                           target_.choice().guarded, s.pending, s.object)
             : interesting(locksets_, id, s.pending, s.object);
}

// Strand `id` made an operation of `kind` (its pending one). One that
// changes what the mutexes order may change whether other strands' next
// operations are interesting: the strands about to access the same atomic,
// or to lock the mutex it takes or lets go. They are fixed before and
// reindexed after, as observe() does for the strand that runs.
void SurwStrategy::made(StrandId id, ChoiceKind kind) {
  const StrandState& s = strands_[id];
  if (kind == ChoiceKind::kLock) target_.locked(id);
  std::vector<std::pair<StrandId, bool>> others;
  if (locksets_.changes(id, kind, s.object)) {
    for (StrandId o = 0; o < strands_.size(); ++o) {
      const StrandState& t = strands_[o];
      if (o != id && t.known && !t.fresh && t.object == s.object &&
          t.pending == ChoiceKind::kAtomic)
        others.emplace_back(o, fix(o));
    }
  }
  if (const void* m = locksets_.flips(id, kind, s.object, s.object2))
    if (const auto it = lockers_.find(m); it != lockers_.end())
      for (StrandId o : it->second)
        if (o != id) others.emplace_back(o, fix(o));
  const bool raced = locksets_.made(id, kind, s.object, s.object2, s.writes);
  if (kind == ChoiceKind::kAtomic)
    target_.touched(id, s.object, s.writes, raced);
  for (const auto& [o, was_held] : others) {
    reindex(o);
    unfix(o, was_held);
  }
}

// The strand's next operation, from the point it reached, and the lockers_
// index of it.
void SurwStrategy::set_pending(StrandId id, const ChoicePoint& point) {
  StrandState& s = strands_[id];
  if (s.pending == ChoiceKind::kLock && s.object != nullptr) {
    std::vector<StrandId>& v = lockers_[s.object];
    v.erase(std::lower_bound(v.begin(), v.end(), id));
  }
  const PendingOp* op =
      point.pending_ops.size() > id ? &point.pending(id) : nullptr;
  s.pending = point.kind;
  s.object = op != nullptr ? op->object : nullptr;
  s.object2 = op != nullptr ? op->object2 : nullptr;
  s.writes = op != nullptr && op->access == Access::kWrite;
  if (s.pending == ChoiceKind::kLock && s.object != nullptr) {
    std::vector<StrandId>& v = lockers_[s.object];
    v.insert(std::lower_bound(v.begin(), v.end(), id), id);
  }
  resolve_target(id);
}

// A strand about to touch the target variable, by name, makes its address
// known: the strands already about to touch that address become
// interesting (fixed before and reindexed after, as in made()).
void SurwStrategy::resolve_target(StrandId id) {
  const StrandState& s = strands_[id];
  if (s.pending != ChoiceKind::kAtomic || !target_.resolve(id, s.object))
    return;
  for (StrandId o = 0; o < strands_.size(); ++o) {
    const StrandState& t = strands_[o];
    if (o == id || !t.known || t.fresh || t.object != s.object) continue;
    const bool was_held = fix(o);
    reindex(o);
    unfix(o, was_held);
  }
}

void SurwStrategy::runnable_changed(StrandId id, bool runnable) {
  StrandState& s = state(id);
  // Off the runnable set, a strand is out of the walks' reach: write down
  // whether it is held back, so a later floor does not decide it.
  if (!runnable && !fix(id) && is_interesting(id) && !s.exempt) {
    s.exempt = true;
  }
  runnable_.set(id, runnable);
  if (runnable && !strands_[id].known) arrived_.push_back(id);
  reindex(id);
}

// What the point tells: the running strand's next operation, and the
// strands not seen before (children of the running strand at a spawn), in
// id order.
void SurwStrategy::observe(const ChoicePoint& point, bool fast) {
  if (point.current != kNoStrand) {
    StrandState& s = state(point.current);
    const bool was_held = s.known && fix(point.current);
    if (s.known && !s.fresh) {
      if (relock(s.pending, point.kind)) s.priority = 0;
      const void* now = point.pending_ops.size() > point.current
                            ? point.pending(point.current).object
                            : nullptr;
      // A wait lets its mutex go when it blocks, not when it returns.
      if (!retries(s.pending, s.object, point.kind, now))
        made(point.current, s.pending);
      else if (s.pending == ChoiceKind::kWait)
        made(point.current, ChoiceKind::kWait);
    }
    s.fresh = false;
    set_pending(point.current, point);
    if (!s.known) {
      s.known = true;
      s.left = expected(point.current);
    }
    reindex(point.current);
    unfix(point.current, was_held);
  }
  if (!fast) {
    for (StrandId id : point.strands)
      if (!state(id).known) learn(id, point);
    return;
  }
  std::sort(arrived_.begin(), arrived_.end());
  const StrandId out = runnable_.left_out(point);
  std::vector<StrandId> later;
  for (StrandId id : arrived_) {
    if (strands_[id].known || !runnable_.runnable(id)) continue;
    if (id == out)
      later.push_back(id);
    else
      learn(id, point);
  }
  arrived_ = std::move(later);
}

void SurwStrategy::learn(StrandId id, const ChoicePoint& point) {
  strands_[id].known = true;
  if (point.kind == ChoiceKind::kSpawn && point.current != kNoStrand)
    on_spawn(point.current, id);
  else
    strands_[id].left = expected(id);
  reindex(id);
}

// The parent's count included the child's: it moves to the child, and so
// does the designation, with the probability of the child's share.
void SurwStrategy::on_spawn(StrandId parent, StrandId child) {
  const std::uint32_t share = expected(child);
  strands_[child].parent = parent;
  strands_[child].left = share;
  StrandState& p = strands_[parent];
  if (p.left == 0) return;
  if (designated_ == parent && share >= 1 + rng_.below(p.left))
    designated_ = child;
  set_left(parent, p.left >= share ? p.left - share : 0);
}

// Random priorities for every step that is not an interesting event, drawn
// once per schedule (the paper draws again after each step; keeping them,
// as PCT does, lets a strand run a stretch of bookkeeping alone, which
// measured 3-5 times faster on twostage_N), for the enabled strands not
// held back that have none, in id order.
void SurwStrategy::draw_priorities(const ChoicePoint& point, bool fast) {
  std::vector<StrandId> ids;
  if (fast) {
    const StrandId out = runnable_.left_out(point);
    for (StrandId id : unpriced_)
      if (id != out) ids.push_back(id);
  } else {
    for (StrandId id : point.strands)
      if (strands_[id].priority == 0 && !held(id)) ids.push_back(id);
  }
  for (StrandId id : ids) {  // none is held back
    strands_[id].priority = rng_.next() | 1;
    reindex(id);
    unfix(id, false);
  }
}

// The enabled strand not held back of highest priority whose next event
// is not interesting (or any, with `interesting_too`); none if none is.
SurwStrategy::Pick SurwStrategy::top(const ChoicePoint& point, bool fast,
                                     bool interesting_too) const {
  Pick best;
  auto consider = [&](StrandId id) {
    const std::uint64_t p = strands_[id].priority;
    if (best.id == kNoStrand || key(id, p) > key(best.id, best.priority))
      best = Pick{id, p};
  };
  if (!fast) {
    for (StrandId id : point.strands)
      if (!held(id) && (interesting_too || !is_interesting(id))) consider(id);
    return best;
  }
  const StrandId out = runnable_.left_out(point);
  for (const std::set<Key>* set : {&plain_, &interesting_}) {
    if (set == &interesting_ && !interesting_too) break;
    for (auto it = set->rbegin(); it != set->rend(); ++it) {
      if (id_of(*it) == out) continue;
      consider(id_of(*it));
      break;
    }
  }
  return best;
}

// The uniform part: a strand in proportion to its interesting events left
// (none is held back when one is designated).
StrandId SurwStrategy::designate(const ChoicePoint& point, bool fast) {
  if (!fast) {
    std::uint64_t total = 0;
    for (StrandId id : point.strands) total += strands_[id].left;
    std::uint64_t r = rng_.below(total);
    for (StrandId id : point.strands) {
      const std::uint32_t left = strands_[id].left;
      if (left == 0) continue;
      if (r < left) return id;
      r -= left;
    }
    return point.strands[0];
  }
  const StrandId out = runnable_.left_out(point);
  const std::int64_t aside = out == kNoStrand ? 0 : strands_[out].weight;
  if (aside != 0) fenwick_add(out, -aside);
  const std::uint64_t total = fenwick_total();
  const std::uint64_t r = rng_.below(total);
  const StrandId id = total == 0 ? point.strands[0] : fenwick_find(r);
  if (aside != 0) fenwick_add(out, aside);
  return id;
}

// The walk as the paper's rp-urw makes it, scanning: down the priorities,
// each strand about to make an interesting event that is not the
// designated one is held back, until one is not or is the designated one.
StrandId SurwStrategy::walk_plain(const ChoicePoint& point) {
  for (;;) {
    draw_priorities(point, false);
    const Pick t = top(point, false, true);
    if (t.id == kNoStrand) {  // every enabled strand is held back
      release_all();
      designated_ = kNoStrand;
      continue;
    }
    if (!is_interesting(t.id)) return t.id;
    if (strands_[t.id].left == 0) set_left(t.id, 1);
    if (designated_ == kNoStrand) designated_ = designate(point, false);
    if (designated_ == t.id) return t.id;
    hold(t.id);
  }
}

// The same walk in O(log n): where it stops is the highest strand not
// about to make an interesting event, or the designated one if higher;
// what it passes is held back by the lazy rule (surw_index.cc).
StrandId SurwStrategy::walk_fast(const ChoicePoint& point) {
  for (;;) {
    draw_priorities(point, true);
    if (designated_ == kNoStrand) {  // nothing is held back
      const Pick t = top(point, true, true);
      if (!is_interesting(t.id)) return t.id;
      if (strands_[t.id].left == 0) set_left(t.id, 1);
      designated_ = designate(point, true);
    }
    Pick pick = top(point, true, false);
    const StrandId d = designated_;
    if (d < strands_.size() && strands_[d].known && is_interesting(d) &&
        !held(d) && runnable_.runnable(d) && d != runnable_.left_out(point) &&
        (pick.id == kNoStrand ||
         key(d, strands_[d].priority) > key(pick.id, pick.priority)))
      pick = Pick{d, strands_[d].priority};
    if (pick.id == kNoStrand) {  // every enabled strand is held back
      bump_above(point, nullptr);
      release_all();
      designated_ = kNoStrand;
      continue;
    }
    const Key at = key(pick.id, pick.priority);
    bump_above(point, &at);
    hold_above(at);
    return pick.id;
  }
}

// The designated strand makes its interesting event.
void SurwStrategy::made_event(StrandId id) {
  StrandState& s = strands_[id];
  ++s.made;
  set_left(id, std::max<std::uint32_t>(s.left, 1) - 1);
  designated_ = kNoStrand;
  release_all();
}

std::uint32_t SurwStrategy::choose(const ChoicePoint& point) {
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  const bool fast = runnable_.matches(point);
  observe(point, fast);
  const StrandId id = fast ? walk_fast(point) : walk_plain(point);
  if (is_interesting(id)) made_event(id);
  // Minimal fairness, as the paper's: a strand picked 1000 times in a
  // row (a spin loop) makes every priority drawn again.
  stay_ = id == last_picked_ ? stay_ + 1 : 0;
  last_picked_ = id;
  if (stay_ >= 1000) {
    reset_priorities();
    stay_ = 0;
  }
  return RunnableView::index_of(point, id);
}

// The profile: each strand's interesting events plus its descendants'
// (a child's id is above its parent's), the most any schedule made.
void SurwStrategy::end(std::uint64_t) {
  std::vector<StrandId> parents(strands_.size(), kNoStrand);
  for (std::size_t id = 0; id < strands_.size(); ++id)
    parents[id] = strands_[id].parent;
  const bool targeted = target_.active();
  target_.end(parents);
  if (targeted) return;
  std::vector<std::uint32_t> total(strands_.size(), 0);
  for (std::size_t id = 0; id < strands_.size(); ++id)
    total[id] = strands_[id].made;
  SurwTarget::add_descendants(total, parents);
  if (profile_.size() < total.size()) profile_.resize(total.size(), 0);
  for (std::size_t id = 0; id < total.size(); ++id)
    profile_[id] = std::max(profile_[id], total[id]);
}

std::string SurwStrategy::environment() const {
  std::string env = "WEFT_STRATEGY=surw";
  if (target_.active())
    env += " WEFT_SURW_TARGET=" + SurwTarget::encode(target_.choice());
  else if (!used_.empty())
    env += " WEFT_SURW_PROFILE=" + encode(used_);
  return env;
}

}  // namespace weft::sim
