// A Strategy decides every choice of a schedule through one narrow call,
// choose(), which answers with an index among the enabled alternatives.
// Strategies are deterministic functions of their seed and the choice
// points they are shown; they never read a clock or a pointer value.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/choice.h"
#include "sim/priority_list.h"
#include "sim/random.h"
#include "sim/runnable_view.h"

namespace weft::sim {

// The choice that keeps the current strand running when it is enabled,
// else the first alternative (value 0 for a value choice): what every
// strategy does where it has nothing to say.
std::uint32_t non_preempting(const ChoicePoint& point);

class Strategy {
 public:
  virtual ~Strategy() = default;

  // Called before each schedule with that schedule's seed.
  virtual void begin(std::uint64_t seed) = 0;
  // The one decision call: returns an index in [0, point.count).
  virtual std::uint32_t choose(const ChoicePoint& point) = 0;
  // Called after each schedule with how many recorded choices it made.
  virtual void end(std::uint64_t /*choices*/) {}
  // Told, between begin() and end(), each time a strand joins the
  // scheduler's runnable set (spawned, woken) or leaves it (blocked,
  // finished), so a strategy can keep the enabled set incrementally
  // instead of rescanning point.strands at every choice point: at a strand
  // choice, point.strands is that set, less the running strand at a kYield
  // point that has another strand to run (unless keeps_yielder()). A strategy
  // that wraps another forwards this call. It must not call back into the
  // scheduler.
  virtual void runnable_changed(StrandId /*id*/, bool /*runnable*/) {}
  // True when the strategy has no schedule left to offer (an exhaustive
  // search that covered its whole tree). Sampling strategies never finish.
  virtual bool finished() const { return false; }
  // True when the strategy wants to see forced moves too (points with one
  // alternative, which are not recorded; its answer there is ignored):
  // partial-order strategies follow every operation. Read once per run.
  virtual bool sees_forced_points() const { return false; }
  // True when the running strand stays among the alternatives at a kYield
  // point (point.strands is then every runnable strand): a flight replay,
  // whose recording may say a thread's yield let no other thread go
  // first. Asked at each kYield point that has another strand to run.
  virtual bool keeps_yielder() const { return false; }
  // A note for the pass summary (e.g. how much DPOR pruned); "" if none.
  virtual std::string coverage_note() const { return {}; }
  // Sharding an exhaustive search: take shard `index` of `total`, a
  // deterministic share of the search disjoint from the other shards' and
  // together with them the whole. False if the strategy does not split
  // itself (sampling strategies: the harness splits the iterations).
  virtual bool split(std::uint64_t /*index*/, std::uint64_t /*total*/) {
    return false;
  }
  // After end(): whether the schedule just run counts for this shard (one
  // that several shards run to reach their shares counts in one only).
  virtual bool counts_last() const { return true; }
  // For a strategy that splits itself: the place of `schedule` (one it
  // made) in the order an unsharded run of the search runs its schedules,
  // compared lexicographically (a smaller key runs first); empty if it has
  // no such order across shards. WEFT_JOBS reports the failure with the
  // smallest key. Computed from the schedule alone, so it also places a
  // schedule that crashed its process.
  virtual std::vector<std::uint32_t> order_key(
      const Schedule& /*schedule*/) const {
    return {};
  }
  // A checkpoint of where the strategy stands, or nullopt if it has none
  // (only exhaustive searches do). restore() takes save()'s bytes back,
  // throwing StateError (sim/state_bytes.h) with the offset of a fault;
  // `base` is the offset of `state` in its file, for messages.
  virtual std::optional<std::string> save() const { return std::nullopt; }
  virtual void restore(std::string_view /*state*/, std::size_t /*base*/) {}

  // Short name as accepted by WEFT_STRATEGY ("random", "pct", "replay").
  virtual std::string name() const = 0;
  // Environment assignments that, with WEFT_SEED, select exactly this
  // strategy again (e.g. "WEFT_STRATEGY=pct WEFT_PCT_DEPTH=3").
  virtual std::string environment() const = 0;
  // A fresh strategy that, begun with the same seed, makes the schedule
  // the last begin() made again (the determinism check). Null when a seed
  // does not select a schedule (an exhaustive search): the check then
  // replays the recorded schedule instead.
  virtual std::unique_ptr<Strategy> replica() const { return nullptr; }
};

// Hands every call to another strategy. Wrappers (a portfolio, a budget,
// the harness's publishing of each schedule) derive from it and override
// only what they change, so a hook added to Strategy is forwarded here,
// once, and no wrapper silently drops it. Does not own `inner`.
class ForwardingStrategy : public Strategy {
 public:
  explicit ForwardingStrategy(Strategy* inner) : inner_(inner) {}
  void begin(std::uint64_t seed) override { inner_->begin(seed); }
  std::uint32_t choose(const ChoicePoint& point) override {
    return inner_->choose(point);
  }
  void end(std::uint64_t choices) override { inner_->end(choices); }
  void runnable_changed(StrandId id, bool runnable) override {
    inner_->runnable_changed(id, runnable);
  }
  bool finished() const override { return inner_->finished(); }
  bool sees_forced_points() const override {
    return inner_->sees_forced_points();
  }
  bool keeps_yielder() const override { return inner_->keeps_yielder(); }
  std::string coverage_note() const override { return inner_->coverage_note(); }
  bool split(std::uint64_t index, std::uint64_t total) override {
    return inner_->split(index, total);
  }
  bool counts_last() const override { return inner_->counts_last(); }
  std::vector<std::uint32_t> order_key(
      const Schedule& schedule) const override {
    return inner_->order_key(schedule);
  }
  std::optional<std::string> save() const override { return inner_->save(); }
  void restore(std::string_view state, std::size_t base) override {
    inner_->restore(state, base);
  }
  std::string name() const override { return inner_->name(); }
  std::string environment() const override { return inner_->environment(); }
  std::unique_ptr<Strategy> replica() const override {
    return inner_->replica();
  }

 protected:
  Strategy* inner() const { return inner_; }
  void set_inner(Strategy* inner) { inner_ = inner; }

 private:
  Strategy* inner_;
};

// Uniform random walk: every enabled alternative equally likely.
class RandomStrategy final : public Strategy {
 public:
  void begin(std::uint64_t seed) override { rng_.reseed(seed); }
  std::uint32_t choose(const ChoicePoint& point) override;
  std::string name() const override { return "random"; }
  std::string environment() const override { return "WEFT_STRATEGY=random"; }
  std::unique_ptr<Strategy> replica() const override {
    return std::make_unique<RandomStrategy>();
  }

 private:
  Rng rng_;
};

// Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010):
// strands get random distinct priorities; the highest-priority enabled
// strand runs; at d-1 random change points the running strand drops to the
// lowest priority. A bug of depth d is found with probability at least
// 1/(n k^(d-1)) per schedule for n strands and k steps. k is estimated from
// the longest schedule seen so far unless fixed, and is part of
// environment() so a printed command replays the same schedule. The
// priorities live in a PriorityList that follows the runnable set, so a
// choice costs O(log n) in the number of strands, not a scan of them.
class PctStrategy final : public Strategy {
 public:
  explicit PctStrategy(int depth, std::uint64_t fixed_steps = 0);
  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  void end(std::uint64_t choices) override;
  void runnable_changed(StrandId id, bool runnable) override;
  std::string name() const override { return "pct"; }
  std::string environment() const override;
  std::unique_ptr<Strategy> replica() const override {
    return std::make_unique<PctStrategy>(depth_, steps_this_run_);
  }
  // The k the current (or last) schedule used.
  std::uint64_t steps_this_run() const { return steps_this_run_; }

 private:
  void lower(StrandId id);
  void enter(StrandId id, bool enabled);
  std::uint32_t pick_highest(const ChoicePoint& point, bool fast);

  int depth_;
  bool fixed_;
  std::uint64_t steps_;           // k: the estimated schedule length
  std::uint64_t steps_this_run_;  // k used by the current schedule
  Rng rng_;
  PriorityList order_;  // highest priority first
  RunnableView runnable_;
  std::vector<StrandId> unseen_;  // runnable, not yet in order_; ascending
  // The last answer, kept until the order or the runnable set changes: a
  // strand that keeps running costs O(1) per choice point.
  bool stale_ = true;
  StrandId best_ = kNoStrand;
  std::uint32_t best_index_ = 0;
  std::vector<std::uint64_t> change_points_;
  std::uint64_t choices_ = 0;
};

// Raised by ReplayStrategy when the program offers a different choice than
// the recording holds at the same position.
class ReplayDivergence : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Replays a recorded schedule, verifying at each choice that the program
// offers what was recorded (same kind, strand and number of alternatives).
// Past the end of the recording it either reports a divergence (exact) or
// continues without preempting (lenient, used when shrinking).
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(Schedule schedule, bool lenient_tail = false);
  void begin(std::uint64_t) override { next_ = 0; }
  std::uint32_t choose(const ChoicePoint& point) override;
  std::string name() const override { return "replay"; }
  std::string environment() const override { return "WEFT_STRATEGY=replay"; }
  // Names of strands for divergence messages, filled by the scheduler.
  void set_strand_namer(std::string (*namer)(StrandId, const void*),
                        const void* ctx) {
    namer_ = namer;
    namer_ctx_ = ctx;
  }

 private:
  std::string describe(ChoiceKind kind, bool is_value, StrandId strand,
                       std::uint32_t count) const;
  Schedule schedule_;
  bool lenient_;
  std::size_t next_ = 0;
  std::string (*namer_)(StrandId, const void*) = nullptr;
  const void* namer_ctx_ = nullptr;
};

// Takes each choice from a list of numbers (value modulo the number of
// alternatives), then the non-preempting one once the list runs out. Lets
// RapidCheck or a fuzzer drive the search and shrink a failing schedule: a
// shorter list of smaller numbers is a schedule with fewer switches.
class ScriptStrategy final : public Strategy {
 public:
  explicit ScriptStrategy(std::vector<std::uint32_t> script)
      : script_(std::move(script)) {}
  void begin(std::uint64_t) override { next_ = 0; }
  std::uint32_t choose(const ChoicePoint& point) override;
  std::string name() const override { return "script"; }
  std::string environment() const override { return "WEFT_STRATEGY=script"; }

 private:
  std::vector<std::uint32_t> script_;
  std::size_t next_ = 0;
};

}  // namespace weft::sim
