// Selectively uniform random walk (SURW; Zhao et al., ASPLOS 2025), as the
// paper's rp-urw configuration runs it. Only *interesting* events (shared
// atomic accesses) are sampled uniformly: when a strand is about to make
// one, a strand is designated with probability proportional to its
// interesting events left, and other strands reaching interesting events
// wait until the designated one has made its own. Every other step (spawns,
// locks, joins, exits) is scheduled by random priorities drawn once per
// schedule: the highest enabled priority runs; a strand draws again only
// before a lock operation that follows a lock operation (a nested
// acquisition, or a retry after the mutex was held), so another strand
// may come in between two acquisitions. A strand's count includes
// the counts of the strands it will spawn, and at a spawn the designation
// passes to the child in proportion to the child's share, so the events of
// strands not yet spawned weigh from the start. The counts come from a
// profile: by strand id (ids are handed out in creation order), the most
// interesting events that strand and its descendants made in any schedule
// run so far. The profile is part of environment(), so a printed command
// replays the schedule exactly.
//
// A choice costs O(log n) in the number of strands n: the strategy follows
// the runnable set (runnable_changed), keeps the strands ordered by
// priority (those about to make an interesting event apart from the
// others) and their events left in a Fenwick tree, so the designation and
// the pick are a search each, not a scan; the strands a pick holds back
// are not marked one by one (the pick is the highest-priority strand that
// is not about to make an interesting event, or the designated one: those
// held back could never be picked anyway). Told nothing of the runnable
// set, it scans point.strands by the same rules.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/lockset.h"
#include "sim/random.h"
#include "sim/runnable_view.h"
#include "sim/strategy.h"
#include "sim/surw_target.h"

namespace weft::sim {

class SurwStrategy final : public Strategy {
 public:
  // `profile`: the starting counts by strand id (empty: learn them), for
  // schedules with no target variable; `target`: every schedule's target
  // variable (empty: drawn from what earlier schedules touched).
  // `every_period` (0: never): the target of each every_period-th
  // schedule this strategy begins is every candidate atomic that raced so
  // far, at once (SurwTarget::Choice::every; one drawn if fewer than two
  // did).
  explicit SurwStrategy(std::vector<std::uint32_t> profile = {},
                        SurwTarget::Choice target = {},
                        std::uint32_t every_period = 0)
      : profile_(std::move(profile)),
        fixed_target_(std::move(target)),
        every_period_(every_period) {}

  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  void runnable_changed(StrandId id, bool runnable) override;
  // Every operation counts towards the profile and the target variables,
  // those a strand makes alone too (a strand that runs last, alone, still
  // touches what the others touched).
  bool sees_forced_points() const override { return true; }
  std::string name() const override { return "surw"; }
  std::string environment() const override;
  std::unique_ptr<Strategy> replica() const override {
    return target_.active()
               ? std::make_unique<SurwStrategy>(std::vector<std::uint32_t>{},
                                                target_.choice())
               : std::make_unique<SurwStrategy>(used_);
  }

  // The events SURW samples uniformly: lock operations that acquire their
  // mutex now, and accesses to shared atomics that no mutex orders, as
  // `locks` tells of strand `id`'s next operation, of `kind` on `object`.
  static bool interesting(const Locksets& locks, StrandId id, ChoiceKind kind,
                          const void* object);
  // With a target variable (sim/surw_target.h): lock operations that
  // acquire their mutex now, and the accesses to `target` (none while it
  // is null: no strand has been about to touch it yet), unless it is
  // `guarded` (one mutex held at every access to it).
  static bool interesting(const Locksets& locks, const void* target,
                          bool guarded, ChoiceKind kind, const void* object);
  // Whether a strand whose next operation was `pending` on `object` and that
  // reached a choice point for `kind` on `now` tries the same operation
  // again (it blocked, or its lock or wait was woken and must retry): the
  // earlier attempt made nothing.
  static bool retries(ChoiceKind pending, const void* object, ChoiceKind kind,
                      const void* now);
  // Whether a strand that ran `ran` and will run `next` draws a new
  // priority first: a lock operation right after a lock operation.
  static bool relock(ChoiceKind ran, ChoiceKind next);

  // "3,2*49,5": counts by strand id, a run of equal counts as count*times.
  static std::string encode(const std::vector<std::uint32_t>& profile) {
    return SurwTarget::encode_counts(profile);
  }
  // The inverse; throws std::invalid_argument on a malformed string.
  static std::vector<std::uint32_t> decode(const std::string& text) {
    return SurwTarget::decode_counts(text);
  }

 private:
  // A strand's place in the ordered sets: highest priority last, and of
  // equal priorities the lowest id last (the one a scan in id order takes).
  using Key = std::pair<std::uint64_t, std::uint32_t>;
  struct StrandState {
    bool known = false;
    bool fresh = true;  // has not reached a choice point yet
    ChoiceKind pending = ChoiceKind::kSpawn;  // its next operation
    const void* object = nullptr;             // what that operation touches
    const void* object2 = nullptr;            // and its second object
    bool writes = false;                      // that operation writes
    StrandId parent = kNoStrand;
    std::uint64_t priority = 0;  // 0: draw a new one when needed
    std::uint32_t left = 0;      // interesting events expected ahead
    std::uint32_t made = 0;      // interesting events made this schedule
    // Held back: `marked` explicitly, or by the lazy rule (held()) unless
    // `exempt`.
    bool marked = false;
    bool exempt = false;
    // Where it is indexed (surw_index.cc): 0 nowhere, 1 plain_, 2
    // interesting_ (and zero_ if its left is 0, exempt_ if exempt), 3
    // unpriced_.
    std::uint8_t indexed = 0;
    bool in_zero = false;
    bool in_exempt = false;
    std::uint64_t indexed_priority = 0;
    std::uint32_t weight = 0;  // in the Fenwick tree
  };
  struct Pick {
    StrandId id = kNoStrand;
    std::uint64_t priority = 0;
  };

  // The walk (surw_strategy.cc).
  StrandState& state(StrandId id);
  void observe(const ChoicePoint& point, bool fast);
  void made(StrandId id, ChoiceKind kind);
  void set_pending(StrandId id, const ChoicePoint& point);
  void resolve_target(StrandId id);
  void learn(StrandId id, const ChoicePoint& point);
  void on_spawn(StrandId parent, StrandId child);
  std::uint32_t expected(StrandId id) const;
  bool is_interesting(StrandId id) const;
  void draw_priorities(const ChoicePoint& point, bool fast);
  Pick top(const ChoicePoint& point, bool fast, bool interesting_too) const;
  StrandId designate(const ChoicePoint& point, bool fast);
  StrandId walk_plain(const ChoicePoint& point);
  StrandId walk_fast(const ChoicePoint& point);
  void made_event(StrandId id);

  // The indexes (surw_index.cc).
  static Key key(StrandId id, std::uint64_t priority);
  static StrandId id_of(const Key& k) { return 0xffffffffu - k.second; }
  bool held(StrandId id) const;
  bool lazily_held(StrandId id) const;
  void hold(StrandId id);
  bool fix(StrandId id);
  void unfix(StrandId id, bool was_held);
  void release_all();
  void hold_above(const Key& floor);
  void bump_above(const ChoicePoint& point, const Key* floor);
  void reindex(StrandId id);
  void set_left(StrandId id, std::uint32_t left);
  void reset_priorities();
  void fenwick_add(StrandId id, std::int64_t delta);
  std::uint64_t fenwick_total() const;
  StrandId fenwick_find(std::uint64_t r) const;

  std::vector<std::uint32_t> profile_;  // learned, for the next schedule
  std::vector<std::uint32_t> used_;     // the profile this schedule uses
  SurwTarget::Choice fixed_target_;
  std::uint32_t every_period_ = 0;
  std::uint64_t begun_ = 0;  // schedules begun
  SurwTarget target_;
  std::vector<StrandState> strands_;
  Locksets locksets_;
  // By mutex: the strands whose next operation locks it, in id order.
  std::unordered_map<const void*, std::vector<StrandId>> lockers_;
  StrandId designated_ = kNoStrand;
  StrandId last_picked_ = kNoStrand;
  std::uint32_t stay_ = 0;  // consecutive picks of last_picked_
  Rng rng_;
  // The lazy rule: an interesting strand whose key is above floor_ is held
  // back (unless exempt), as if marked by the walks since the last release.
  bool lazy_ = false;
  Key floor_{};
  std::vector<StrandId> marked_;  // to release
  // The fast path's indexes over the known runnable strands, not marked.
  RunnableView runnable_;
  std::vector<StrandId> arrived_;       // runnable, maybe not known yet
  std::set<Key> plain_;                 // priced, next event not interesting
  std::set<Key> interesting_;           // priced, next event interesting
  std::set<Key> zero_;                  // of interesting_: left 0
  std::set<Key> exempt_;                // of interesting_: exempt
  std::set<StrandId> unpriced_;         // priority 0
  std::vector<std::uint64_t> fenwick_;  // left, by id (1-based tree)
  std::uint64_t fenwick_sum_ = 0;
};

}  // namespace weft::sim
