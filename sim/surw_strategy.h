// Selectively uniform random walk (SURW; Zhao et al., ASPLOS 2025), as the
// paper's rp-urw configuration runs it. Only *interesting* events (shared
// atomic accesses) are sampled uniformly: when a strand is about to make
// one, a strand is designated with probability proportional to its
// interesting events left, and other strands reaching interesting events
// wait until the designated one has made its own. Every other step (spawns,
// locks, joins, exits) is scheduled by random priorities drawn once per
// schedule: the highest enabled priority runs. A strand's count includes
// the counts of the strands it will spawn, and at a spawn the designation
// passes to the child in proportion to the child's share, so the events of
// strands not yet spawned weigh from the start. The counts come from a
// profile: by strand id (ids are handed out in creation order), the most
// interesting events that strand and its descendants made in any schedule
// run so far. The profile is part of environment(), so a printed command
// replays the schedule exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/random.h"
#include "sim/strategy.h"

namespace weft::sim {

class SurwStrategy final : public Strategy {
 public:
  // `profile`: the starting counts by strand id (empty: learn them).
  explicit SurwStrategy(std::vector<std::uint32_t> profile = {})
      : profile_(std::move(profile)) {}

  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  std::string name() const override { return "surw"; }
  std::string environment() const override;
  std::unique_ptr<Strategy> replica() const override {
    return std::make_unique<SurwStrategy>(used_);
  }

  // The events SURW samples uniformly: accesses to shared atomics.
  static bool interesting(ChoiceKind kind);

  // "3,2*49,5": counts by strand id, a run of equal counts as count*times.
  static std::string encode(const std::vector<std::uint32_t>& profile);
  // The inverse; throws std::invalid_argument on a malformed string.
  static std::vector<std::uint32_t> decode(const std::string& text);

 private:
  struct StrandState {
    bool known = false;
    bool fresh = true;  // has not reached a choice point yet
    ChoiceKind pending = ChoiceKind::kSpawn;  // its next operation
    StrandId parent = kNoStrand;
    std::uint64_t priority = 0;  // 0: draw a new one when needed
    std::uint32_t left = 0;      // interesting events expected ahead
    std::uint32_t made = 0;      // interesting events made this schedule
    bool waiting = false;        // held back: not the designated strand
  };

  StrandState& state(StrandId id);
  void observe(const ChoicePoint& point);
  void on_spawn(StrandId parent, StrandId child);
  std::uint32_t expected(StrandId id) const;
  bool is_interesting(StrandId id) const;
  std::int64_t highest_priority(const ChoicePoint& point);
  std::uint32_t designate(const ChoicePoint& point);
  void release_all();

  std::vector<std::uint32_t> profile_;  // learned, for the next schedule
  std::vector<std::uint32_t> used_;     // the profile this schedule uses
  std::vector<StrandState> strands_;
  StrandId designated_ = kNoStrand;
  StrandId last_picked_ = kNoStrand;
  std::uint32_t stay_ = 0;  // consecutive picks of last_picked_
  Rng rng_;
};

}  // namespace weft::sim
