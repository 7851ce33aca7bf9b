// SURW as it was before its choices cost O(log n): every enabled strand
// scanned at every choice point, the strands held back marked one by one.
// The reference incremental_strategy_test.cc holds SurwStrategy to.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/lockset.h"
#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/surw_strategy.h"
#include "sim/surw_target.h"

namespace weft::sim::test {

class ReferenceSurw final : public Strategy {
 public:
  std::string name() const override { return "surw"; }
  std::string environment() const override { return ""; }
  bool sees_forced_points() const override { return true; }

 private:
  struct StrandState {
    bool known = false;
    bool fresh = true;
    ChoiceKind pending = ChoiceKind::kSpawn;
    const void* object = nullptr;
    const void* object2 = nullptr;
    bool writes = false;
    StrandId parent = kNoStrand;
    std::uint64_t priority = 0;
    std::uint32_t left = 0;
    std::uint32_t made = 0;
    bool waiting = false;
  };
  std::vector<std::uint32_t> profile_;
  std::vector<std::uint32_t> used_;
  std::vector<StrandState> strands_;
  Locksets locksets_;
  SurwTarget target_;
  StrandId designated_ = kNoStrand;
  StrandId last_picked_ = kNoStrand;
  std::uint32_t stay_ = 0;
  Rng rng_;

 public:
  void begin(std::uint64_t seed) override {
    rng_.reseed(seed);
    Rng pick = SurwTarget::draw_for(seed);
    target_.begin(pick);
    used_ = target_.active() ? target_.choice().counts : profile_;
    strands_.clear();
    locksets_.clear();
    designated_ = kNoStrand;
    last_picked_ = kNoStrand;
    stay_ = 0;
  }

  StrandState& state(StrandId id) {
    if (id >= strands_.size()) strands_.resize(id + 1);
    return strands_[id];
  }

  std::uint32_t expected(StrandId id) const {
    return id < used_.size() ? used_[id] : 0;
  }

  bool is_interesting(StrandId id) const {
    const StrandState& s = strands_[id];
    if (s.fresh) return false;
    return target_.active()
               ? SurwStrategy::interesting(
                     locksets_,
                     target_.is_target(s.object) ? s.object : nullptr,
                     target_.choice().guarded, s.pending, s.object)
               : SurwStrategy::interesting(locksets_, id, s.pending, s.object);
  }

  void made(StrandId id, const StrandState& s) {
    if (s.pending == ChoiceKind::kLock) target_.locked(id);
    const bool raced =
        locksets_.made(id, s.pending, s.object, s.object2, s.writes);
    if (s.pending == ChoiceKind::kAtomic)
      target_.touched(id, s.object, s.writes, raced);
  }

  // What the point tells: the running strand's next operation, and the
  // strands not seen before (children of the running strand at a spawn).
  void observe(const ChoicePoint& point) {
    if (point.current != kNoStrand) {
      StrandState& s = state(point.current);
      const PendingOp* op = point.pending_ops.size() > point.current
                                ? &point.pending(point.current)
                                : nullptr;
      const void* now = op != nullptr ? op->object : nullptr;
      if (s.known && !s.fresh) {
        if (SurwStrategy::relock(s.pending, point.kind)) s.priority = 0;
        if (!SurwStrategy::retries(s.pending, s.object, point.kind, now))
          made(point.current, s);
        else if (s.pending == ChoiceKind::kWait)
          locksets_.made(point.current, s.pending, s.object, s.object2);
      }
      s.fresh = false;
      s.pending = point.kind;
      s.object = now;
      s.object2 = op != nullptr ? op->object2 : nullptr;
      s.writes = op != nullptr && op->access == Access::kWrite;
      if (s.pending == ChoiceKind::kAtomic)
        target_.resolve(point.current, s.object);
      if (!s.known) {
        s.known = true;
        s.left = expected(point.current);
      }
    }
    for (StrandId id : point.strands) {
      if (state(id).known) continue;
      strands_[id].known = true;
      if (point.kind == ChoiceKind::kSpawn && point.current != kNoStrand)
        on_spawn(point.current, id);
      else
        strands_[id].left = expected(id);
    }
  }

  // The parent's count included the child's: it moves to the child, and so
  // does the designation, with the probability of the child's share.
  void on_spawn(StrandId parent, StrandId child) {
    const std::uint32_t share = expected(child);
    strands_[child].parent = parent;
    strands_[child].left = share;
    StrandState& p = strands_[parent];
    if (p.left == 0) return;
    if (designated_ == parent && share >= 1 + rng_.below(p.left))
      designated_ = child;
    p.left = p.left >= share ? p.left - share : 0;
  }

  // Random priorities for every step that is not an interesting event, drawn
  // once per schedule (the paper draws again after each step; keeping them,
  // as PCT does, lets a strand run a stretch of bookkeeping alone, which
  // measured 3-5 times faster on twostage_N): the highest enabled priority
  // among the strands not held back; -1 if all are.
  std::int64_t highest_priority(const ChoicePoint& point) {
    std::int64_t best = -1;
    std::uint64_t best_priority = 0;
    for (std::uint32_t i = 0; i < point.count; ++i) {
      StrandState& s = strands_[point.strands[i]];
      if (s.waiting) continue;
      if (s.priority == 0) s.priority = rng_.next() | 1;
      if (s.priority > best_priority) {
        best_priority = s.priority;
        best = i;
      }
    }
    return best;
  }

  // The uniform part: a strand in proportion to its interesting events left.
  std::uint32_t designate(const ChoicePoint& point) {
    std::uint64_t total = 0;
    for (StrandId id : point.strands)
      if (!strands_[id].waiting) total += strands_[id].left;
    std::uint64_t r = rng_.below(total);
    for (std::uint32_t i = 0; i < point.count; ++i) {
      const StrandState& s = strands_[point.strands[i]];
      if (s.waiting || s.left == 0) continue;
      if (r < s.left) return i;
      r -= s.left;
    }
    return 0;
  }

  void release_all() {
    for (StrandState& s : strands_) s.waiting = false;
  }

  std::uint32_t choose(const ChoicePoint& point) override {
    if (point.is_value)
      return static_cast<std::uint32_t>(rng_.below(point.count));
    observe(point);
    for (;;) {
      const std::int64_t at = highest_priority(point);
      if (at < 0) {  // every enabled strand waits for one that cannot run
        release_all();
        designated_ = kNoStrand;
        continue;
      }
      const auto index = static_cast<std::uint32_t>(at);
      const StrandId id = point.strands[index];
      StrandState& s = strands_[id];
      if (is_interesting(id)) {
        if (s.left == 0) s.left = 1;
        if (designated_ == kNoStrand)
          designated_ = point.strands[designate(point)];
        if (designated_ != id) {
          s.waiting = true;
          continue;
        }
        if (s.left > 0) --s.left;
        ++s.made;
        designated_ = kNoStrand;
        release_all();
      }
      // Minimal fairness, as the paper's: a strand picked 1000 times in a
      // row (a spin loop) makes every priority drawn again.
      stay_ = id == last_picked_ ? stay_ + 1 : 0;
      last_picked_ = id;
      if (stay_ >= 1000) {
        for (StrandState& t : strands_) t.priority = 0;
        stay_ = 0;
      }
      return index;
    }
  }

  // The profile: each strand's interesting events plus its descendants'
  // (a child's id is above its parent's), the most any schedule made.
  void end(std::uint64_t) override {
    std::vector<StrandId> parents(strands_.size(), kNoStrand);
    for (std::size_t id = 0; id < strands_.size(); ++id)
      parents[id] = strands_[id].parent;
    const bool targeted = target_.active();
    target_.end(parents);
    if (targeted) return;
    std::vector<std::uint32_t> total(strands_.size(), 0);
    for (std::size_t id = strands_.size(); id-- > 0;) {
      total[id] += strands_[id].made;
      const StrandId parent = strands_[id].parent;
      if (parent != kNoStrand && parent < id) total[parent] += total[id];
    }
    if (profile_.size() < total.size()) profile_.resize(total.size(), 0);
    for (std::size_t id = 0; id < total.size(); ++id)
      profile_[id] = std::max(profile_[id], total[id]);
  }
};

}  // namespace weft::sim::test
