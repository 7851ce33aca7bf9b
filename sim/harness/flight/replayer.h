// FlightReplay drives a simulation by a flight recording: a Strategy that
// lets a strand do a recorded operation only when the recording says the
// object is at that operation's version, and the ReplayHooks that check
// each operation the program completes against its strand's next recorded
// one (same kind, same object, same version) and hand back what real time
// said (clock readings, a wait's timeout). The first difference fails the
// run as a replay divergence naming the step, strand and object. Strands
// are matched to recorded threads through the spawns (strand 0 is thread
// 0); objects to recorded object ids at their first operation. Once a
// strand has done all its recorded operations it goes on freely, but only
// when no recorded strand can go, and first with operations that cannot
// write an object a recorded operation still waits on (pick()). Once
// every recorded operation is done the rest of the run is the tail
// strategy's (a random walk seeded by the run's seed): a lenient tail.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/flight.h"
#include "sim/harness/flight/recording.h"
#include "sim/strategy.h"

namespace weft::sim::flight {

class FlightReplay final : public Strategy, public ReplayHooks {
 public:
  explicit FlightReplay(const Recording& recording);

  // --- Strategy ------------------------------------------------------------
  void begin(std::uint64_t seed) override;
  std::uint32_t choose(const ChoicePoint& point) override;
  std::string name() const override { return "flight"; }
  // Until the tail: a thread may have spun through many yields while the
  // other threads' next operations waited (pick() takes the yielder last).
  bool keeps_yielder() const override { return checked_left_ > 0; }
  std::string environment() const override {
    return "WEFT_REPLAY=" + recording_.path;
  }

  // --- ReplayHooks ---------------------------------------------------------
  std::uint64_t on_op(Op op, const void* object, std::uint64_t value) override;
  bool next_is(Op op) override;

  // Recorded operations the last run replayed (checked), of all.
  std::uint64_t replayed() const { return replayed_; }
  std::uint64_t recorded() const { return recording_.operations; }
  // The first step at which the run left the recording (every recorded
  // operation done, or a strand past its own), 0 if it never did.
  std::uint64_t tail_from() const { return tail_from_; }

 private:
  struct Counts {
    std::uint64_t writes = 0;
    std::map<std::uint64_t, std::uint64_t> reads;  // done, by version
  };
  struct Thread {
    const ThreadOps* ops = nullptr;
    std::size_t next = 0;
    // The run counted into the atomic operation just done (AtomicRun):
    // its operations still to do, the next of them (`credited`), the
    // reads to do before the next write (or at the end), the writes left,
    // the reads after each of them but the last, and after the last.
    std::uint64_t credit = 0;
    traces::FlightRecord credited{};
    std::uint64_t reads = 0, writes = 0, each = 0, trailing = 0;
    // A thread whose ring wrapped is replayed unchecked.
    bool checked() const { return ops != nullptr && ops->dropped == 0; }
    bool done() const {
      return credit == 0 && (ops == nullptr || next >= ops->ops.size());
    }
  };

  // The recorded operation strand `id` does next, or null (a free strand).
  const traces::FlightRecord* next_of(StrandId id) const;
  bool may_go(StrandId id, const PendingOp& op) const;
  std::optional<std::uint32_t> pick(const ChoicePoint& point) const;
  bool steals(const PendingOp& op) const;
  std::string why_waiting(StrandId id) const;
  Counts counts_for(const traces::FlightRecord& e, const void* address) const;
  void count(Op op, const void* object);
  void bind(const traces::FlightRecord& e, const void* object);
  void advance(StrandId id);
  void diverge(const std::string& what);
  void check_timer(Op op, const traces::FlightRecord& e, std::uint64_t value);

  const Recording& recording_;
  // Reads of each (object, version) the recording holds.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> reads_;
  std::map<std::uint32_t, Thread> threads_;  // by recorded thread number
  std::vector<std::uint32_t> of_;            // recorded thread of a strand
  // What the run did to each object, by address (looked up, never
  // iterated), and which recorded object each address is.
  std::unordered_map<const void*, Counts> counts_;
  std::map<std::uint64_t, const void*> address_of_;
  std::unordered_map<const void*, std::uint64_t> id_at_;
  std::uint64_t checked_left_ = 0;
  // Recorded operations (checked threads) still to do, by recorded object.
  std::map<std::uint64_t, std::uint64_t> left_;
  std::uint64_t replayed_ = 0;
  std::uint64_t tail_from_ = 0;
  bool diverged_ = false;
  // The recorded timer thread (the one that fires timers) and whether the
  // timer strand is bound to it; each replayed arm's deadline, by version.
  std::uint32_t timer_thread_ = 0xffffffffu;
  bool timer_bound_ = false;
  std::map<std::uint64_t, std::uint64_t> armed_;
  RandomStrategy tail_;
};

}  // namespace weft::sim::flight
