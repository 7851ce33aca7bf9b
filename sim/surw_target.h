// SURW's target variable (Zhao et al., ASPLOS 2025, the memory_addr
// method): each schedule samples uniformly the accesses to one shared
// atomic, drawn in proportion to its accesses among the atomics that half
// the strands (at least two) touched and one wrote in earlier schedules.
// The counts a schedule expects of each strand are its accesses to the
// target plus its lock acquisitions, the most an earlier schedule made.
// An object is known across schedules by the strands that touch it and the
// order in which each first does ((strand id, its k-th distinct object)),
// never by its address, so the choice is the same in every build; within a
// schedule addresses are compared for equality only. Not a choice point:
// SurwStrategy asks it what is interesting and tells it what was made.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/choice.h"
#include "sim/random.h"

namespace weft::sim {

class SurwTarget {
 public:
  // One schedule's target: the (strand << 32 | ordinal) names it goes by,
  // sorted, and each strand's expected accesses to it and acquisitions,
  // its descendants' included (by strand id).
  struct Choice {
    std::vector<std::uint64_t> names;
    std::vector<std::uint32_t> counts;
    // No access to it raced (Locksets::races: a write with any access, a
    // read with a write, no mutex held at both) in any schedule so far:
    // the order of the critical sections around its accesses is all there
    // is to sample, so only the acquisitions are interesting (and
    // counted), not its accesses.
    bool guarded = false;
    // The names are those of every candidate atomic that raced in a
    // schedule so far, all targets at once (their counts summed), not of
    // one: each object a strand comes to under one of them is a target.
    bool every = false;
    bool empty() const { return names.empty(); }
  };

  // Starts a schedule: with `fixed` (a replica's, or a replayed one's) when
  // given, else drawn from the objects seen so far with `rng` (none before
  // any was seen: then active() is false); with `every`, every candidate
  // that raced at once (Choice::every), or one drawn if fewer than two did.
  void begin(Rng& rng, const Choice* fixed = nullptr, bool every = false);
  // The generator a schedule of seed `seed` draws its target with: a
  // stream of its own, so a walk given the target makes the same choices.
  static Rng draw_for(std::uint64_t seed) {
    return Rng(seed ^ 0x7a26e7c4d1b3f598ull);
  }
  bool active() const { return !choice_.empty(); }
  const Choice& choice() const { return choice_; }
  // The target's address once a strand is about to touch it, else null
  // (the first one resolved, for Choice::every).
  const void* object() const { return object_; }
  // Whether `object` is a target resolved this schedule.
  bool is_target(const void* object) const {
    return object != nullptr &&
           (object == object_ ||
            std::binary_search(objects_.begin(), objects_.end(), object,
                               std::less<>()));
  }
  // Strand `id` is about to touch `object`: true when that makes `object`
  // a target (it was not known before; with Choice::every, any number of
  // objects may be).
  bool resolve(StrandId id, const void* object);
  // Strand `id` made an atomic read or write of `object`; `raced`: it
  // conflicts with an earlier access no common mutex ordered
  // (Locksets::races).
  void touched(StrandId id, const void* object, bool write, bool raced);
  // Strand `id` acquired a mutex.
  void locked(StrandId id);
  // Ends a schedule: what it touched joins the objects seen; `parent` by
  // strand id (kNoStrand for none; a parent's id is below its child's).
  void end(const std::vector<StrandId>& parent);

  // "3,2*4/1.0,2-5.0": the counts (SurwStrategy::encode's form), then the
  // names, a run of strands with one ordinal as first-last.ordinal.
  static std::string encode(const Choice& choice);
  // The inverse; throws std::invalid_argument on a malformed string.
  static Choice decode(const std::string& text);
  // Counts by strand id, a run of equal counts as count*times ("3,2*49,5"),
  // and the inverse (throws std::invalid_argument).
  static std::string encode_counts(const std::vector<std::uint32_t>& counts);
  static std::vector<std::uint32_t> decode_counts(const std::string& text);
  // Adds each strand's count into its parent's, deepest first (a child's
  // id is above its parent's; `parent` by strand id, kNoStrand for none):
  // a strand's count then includes its descendants', as the paper counts
  // a thread's forks in.
  static void add_descendants(std::vector<std::uint32_t>& counts,
                              const std::vector<StrandId>& parent);

 private:
  struct Touch {
    std::uint32_t ordinal = 0;
    std::uint32_t count = 0;
    bool wrote = false;
    bool raced = false;  // an access raced with an earlier one
  };
  struct Seen {
    std::vector<std::uint64_t> names;          // sorted
    std::map<StrandId, std::uint32_t> counts;  // the most in a schedule
    bool written = false;
    bool raced = false;
  };
  std::uint32_t ordinal(StrandId id, const void* object) const;
  Choice counts_of(const std::vector<const Seen*>& seen) const;
  Choice draw_one(Rng& rng, std::size_t least) const;
  Choice draw_every(std::size_t least) const;

  Choice choice_;
  const void* object_ = nullptr;
  // Choice::every's targets resolved so far, ordered by address (for
  // lookup only: no choice depends on the order).
  std::vector<const void*> objects_;
  // This schedule's accesses, by strand, then by object.
  std::vector<std::unordered_map<const void*, Touch>> touches_;
  // By strand: the object it touched last and the touches not yet added
  // to its entry (a strand mostly touches one object many times running:
  // no lookup then, and nothing read outside this array).
  struct Last {
    const void* object = nullptr;
    Touch pending;
  };
  std::vector<Last> last_;
  void flush(StrandId id);
  std::vector<std::uint32_t> locks_;       // this schedule's, by strand
  std::vector<std::uint32_t> most_locks_;  // the most in a schedule
  // Every object seen, by its smallest name in the schedule that saw it.
  std::map<std::uint64_t, Seen> seen_;
  std::vector<StrandId> parent_;  // the last schedule's
  std::size_t strands_ = 0;       // the most strands a schedule had
};

}  // namespace weft::sim
