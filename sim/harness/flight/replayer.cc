#include "sim/harness/flight/replayer.h"

#include <optional>

#include "sim/scheduler.h"

namespace weft::sim::flight {
namespace {

constexpr std::uint32_t kNoThread = 0xffffffffu;

// The recorded kind of the operation a strand is about to do, if the
// replay orders it (condition-variable waits, spawns and joins go at
// once; what follows them is ordered).
std::optional<Op> ordered_op(const PendingOp& p) {
  switch (p.kind) {
    case ChoiceKind::kLock:
      return Op::kLock;
    case ChoiceKind::kAtomic:
      return p.access == Access::kRead ? Op::kAtomicRead : Op::kAtomicWrite;
    case ChoiceKind::kAcquire:
      return Op::kAcquire;
    case ChoiceKind::kRelease:
      return Op::kRelease;
    case ChoiceKind::kWait:
      if (p.object2 == nullptr) return Op::kLatchWait;
      return std::nullopt;
    case ChoiceKind::kTimer:  // an arm, firing or cancel, if on the service
      if (p.object != nullptr) return Op::kTimerArm;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

bool is_atomic(Op op) {
  return op == Op::kAtomicRead || op == Op::kAtomicWrite;
}
// Versions are recorded modulo 2^31 (sim/flight.h): compared so.
std::uint64_t ver(std::uint64_t v) { return v & kVersionMask; }
// The run counted into an atomic operation (its value: AtomicRun).
AtomicRun run_of(const traces::FlightRecord& e) {
  return is_atomic(static_cast<Op>(e.op)) ? decode_run(e.value) : AtomicRun{};
}
// The operations of a run, after the event's own.
std::uint64_t coalesced(const traces::FlightRecord& e) {
  const AtomicRun r = run_of(e);
  return r.writes * (r.reads + 1) + r.trailing;
}
std::uint64_t left_at(const traces::FlightRecord& e) {
  return ver(static_cast<Op>(e.op) == Op::kAtomicWrite ? e.version + 1
                                                       : e.version);
}

bool is_read(Op op) {
  return op == Op::kAtomicRead || op == Op::kLatchWait || op == Op::kTryFail;
}
bool is_timer(Op op) {
  return op == Op::kTimerArm || op == Op::kTimerFire || op == Op::kTimerCancel;
}
bool on_object(Op op) {
  return op != Op::kSpawn && op != Op::kJoin && op != Op::kClock &&
         op != Op::kCvWait;
}
// Whether the recorded operation is what a strand about to do `pending`
// (ordered_op's answer) may do: a lock or an acquire may fail (a try), and
// a timer choice on the service is whichever timer operation comes next.
bool fits(Op recorded, Op pending) {
  if (recorded == pending) return true;
  if (recorded == Op::kTryFail)
    return pending == Op::kLock || pending == Op::kAcquire;
  return is_timer(recorded) && is_timer(pending);
}

std::string op_name(Op op) {
  static constexpr const char* kNames[] = {"spawn",
                                           "join",
                                           "lock",
                                           "condition-variable wait",
                                           "acquire",
                                           "release",
                                           "latch wait",
                                           "atomic read",
                                           "atomic write",
                                           "clock reading",
                                           "failed try_lock or try_acquire",
                                           "timer arming",
                                           "timer firing",
                                           "timer cancel"};
  return kNames[static_cast<int>(op)];
}

// "an atomic read", "a lock".
std::string with_article(const std::string& noun) {
  return (std::string("aeiou").find(noun.front()) != std::string::npos ? "an "
                                                                       : "a ") +
         noun;
}

std::string describe(const traces::FlightRecord& e) {
  const Op op = static_cast<Op>(e.op);
  std::string d = op_name(op);
  if (on_object(op))
    d += " of object #" + std::to_string(e.object) + " at version " +
         std::to_string(e.version);
  if (op == Op::kSpawn || op == Op::kJoin)
    d += " of thread " + std::to_string(e.value);
  if (op == Op::kTimerFire)
    d += " (armed at version " + std::to_string(e.value) + ")";
  return d;
}

}  // namespace

FlightReplay::FlightReplay(const Recording& recording) : recording_(recording) {
  for (const auto& [thread, t] : recording_.threads)
    for (const traces::FlightRecord& e : t.ops) {
      if (is_read(static_cast<Op>(e.op))) ++reads_[{e.object, ver(e.version)}];
      // A run's reads: `reads` of each version its writes leave but the
      // last, `trailing` of the last.
      const AtomicRun run = run_of(e);
      for (std::uint64_t i = 0; i <= run.writes; ++i)
        if (const std::uint64_t n = i < run.writes ? run.reads : run.trailing)
          reads_[{e.object, ver(left_at(e) + i)}] += n;
      // The thread that fires timers is the real timer service's: the
      // simulation's timer strand replays it.
      if (static_cast<Op>(e.op) == Op::kTimerFire) timer_thread_ = thread;
    }
}

void FlightReplay::begin(std::uint64_t seed) {
  threads_.clear();
  left_.clear();
  checked_left_ = 0;
  for (const auto& [thread, t] : recording_.threads) {
    threads_[thread] = Thread{&t};
    if (t.dropped == 0)
      for (const traces::FlightRecord& e : t.ops) {
        checked_left_ += 1 + coalesced(e);
        if (on_object(static_cast<Op>(e.op)))
          left_[e.object] += 1 + coalesced(e);
      }
  }
  of_.assign(1, 0);  // main is thread 0
  timer_bound_ = false;
  armed_.clear();
  counts_.clear();
  address_of_.clear();
  id_at_.clear();
  replayed_ = 0;
  tail_from_ = 0;
  diverged_ = false;
  tail_.begin(seed);
}

const traces::FlightRecord* FlightReplay::next_of(StrandId id) const {
  if (id >= of_.size() || of_[id] == kNoThread) return nullptr;
  const auto it = threads_.find(of_[id]);
  if (it == threads_.end() || !it->second.checked() || it->second.done())
    return nullptr;
  if (it->second.credit > 0) return &it->second.credited;
  return &it->second.ops->ops[it->second.next];
}

FlightReplay::Counts FlightReplay::counts_for(const traces::FlightRecord& e,
                                              const void* address) const {
  const auto c = counts_.find(address);
  if (c == counts_.end()) return {};
  // A recorded object seen for the first time at an address that held
  // another: the address was reused, the object is new.
  const auto at = id_at_.find(address);
  if (!address_of_.contains(e.object) && at != id_at_.end() &&
      at->second != e.object && e.version == 0)
    return {};
  return c->second;
}

bool FlightReplay::may_go(StrandId id, const PendingOp& p) const {
  const traces::FlightRecord* e = next_of(id);
  if (e == nullptr) return true;
  const std::optional<Op> op = ordered_op(p);
  // Unordered, or not what was recorded (the hook reports that).
  const Op recorded = static_cast<Op>(e->op);
  if (!op || !fits(recorded, *op)) return true;
  if (const auto b = address_of_.find(e->object);
      b != address_of_.end() && b->second != p.object)
    return true;
  const Counts c = counts_for(*e, p.object);
  if (ver(c.writes) != ver(e->version)) return false;
  if (is_read(recorded)) return true;
  const auto expected = reads_.find({e->object, ver(e->version)});
  if (expected == reads_.end()) return true;
  const auto done = c.reads.find(ver(e->version));
  return done != c.reads.end() && done->second >= expected->second;
}

std::string FlightReplay::why_waiting(StrandId id) const {
  const traces::FlightRecord* e = next_of(id);
  if (e == nullptr) return "";
  std::string why = "its next recorded operation is the " + describe(*e);
  if (const auto b = address_of_.find(e->object); b != address_of_.end()) {
    const auto c = counts_.find(b->second);
    why += " (the object is at version " +
           std::to_string(c == counts_.end() ? 0 : c->second.writes) + ")";
  }
  return why;
}

std::uint32_t FlightReplay::choose(const ChoicePoint& point) {
  if (checked_left_ == 0) {
    if (tail_from_ == 0) tail_from_ = point.step;
    return tail_.choose(point);
  }
  // A wait is not spurious, and notify_one wakes the first waiter: the
  // recording orders what follows through the objects.
  if (point.is_value) return 0;
  if (const std::optional<std::uint32_t> i = pick(point)) return *i;
  std::string why;
  const Scheduler* s = Scheduler::current();
  for (StrandId id : point.strands)
    why += "\n  strand '" + (s ? s->strand_name(id) : std::to_string(id)) +
           "': " + why_waiting(id);
  throw ReplayDivergence(
      "replay divergence at step " + std::to_string(point.step) +
      ": no strand can do what the recording says it did next (" +
      std::to_string(replayed_) + " of " +
      std::to_string(recording_.operations) +
      " recorded operations replayed):" + why);
}

// Whom to run while recorded operations are left, in three tiers: a
// strand that follows the recording and whose operation it allows; else a
// strand past its recording (or unchecked) whose operation cannot move an
// object a recorded operation still waits on (a read, an unlock, a write
// of an object with no recorded operation left); else any strand past its
// recording, for a recorded operation may wait for a write the recording
// lost (the event a thread was writing at a kill). The running strand
// first within a tier, but last at a yield (keeps_yielder(): it stays only
// when the recording lets no other strand of its tier go, as a thread
// that spun on a read while the others' next operations waited for it).
std::optional<std::uint32_t> FlightReplay::pick(
    const ChoicePoint& point) const {
  const std::uint32_t current = RunnableView::index_of(point, point.current);
  const bool yields = point.kind == ChoiceKind::kYield;
  for (const int tier : {0, 1, 2}) {
    auto fits = [&](StrandId id) {
      const PendingOp& p = point.pending(id);
      if (tier == 0) return next_of(id) != nullptr && may_go(id, p);
      return next_of(id) == nullptr && (tier == 2 || !steals(p));
    };
    const bool current_fits = current < point.count && fits(point.current);
    if (current_fits && !yields) return current;
    for (std::uint32_t i = 0; i < point.count; ++i)
      if (i != current && fits(point.strands[i])) return i;
    if (current_fits) return current;
  }
  return std::nullopt;
}

// Whether a strand past its recording doing `p` would write an object that
// still has recorded operations to come (each would then find it a
// version ahead).
bool FlightReplay::steals(const PendingOp& p) const {
  const std::optional<Op> op = ordered_op(p);
  if (!op || is_read(*op) || p.object == nullptr) return false;
  const auto id = id_at_.find(p.object);
  if (id == id_at_.end()) return false;  // not a recorded object yet
  const auto left = left_.find(id->second);
  return left != left_.end() && left->second > 0;
}

bool FlightReplay::next_is(Op op) {
  const Scheduler* s = Scheduler::current();
  const StrandId me = s->current_strand();
  // The timer strand asks first: it is the recorded timer thread.
  if (op == Op::kTimerFire && timer_thread_ != kNoThread && !timer_bound_) {
    if (me >= of_.size()) of_.resize(me + 1, kNoThread);
    if (of_[me] == kNoThread) {
      of_[me] = timer_thread_;
      timer_bound_ = true;
    }
  }
  const traces::FlightRecord* e = next_of(me);
  return e != nullptr && static_cast<Op>(e->op) == op;
}

void FlightReplay::count(Op op, const void* object) {
  Counts& c = counts_[object];
  if (is_read(op))
    ++c.reads[ver(c.writes)];
  else
    ++c.writes;
}

void FlightReplay::diverge(const std::string& what) {
  if (diverged_) return;
  diverged_ = true;
  Scheduler* s = Scheduler::current();
  const StrandId me = s->current_strand();
  s->fail(FailureKind::kReplayDivergence,
          "replay divergence at step " + std::to_string(s->step()) +
              ", strand '" + s->strand_name(me) + "' (recorded thread " +
              std::to_string(of_[me]) + "): " + what +
              ". The program no longer does what the recording says: was it "
              "changed, or does it read something the recorder does not "
              "see (a plain shared variable, real randomness)?");
}

void FlightReplay::advance(StrandId id) {
  Thread& t = threads_[of_[id]];
  const traces::FlightRecord& done =
      t.credit > 0 ? t.credited : t.ops->ops[t.next];
  if (t.checked() && on_object(static_cast<Op>(done.op)))
    if (std::uint64_t& left = left_[done.object]; left > 0) --left;
  if (t.credit > 0) {
    --t.credit;
    if (static_cast<Op>(t.credited.op) == Op::kAtomicRead) {
      --t.reads;
    } else {
      --t.writes;
      t.credited.version = ver(t.credited.version + 1);
      t.reads = t.writes > 0 ? t.each : t.trailing;
    }
  } else {
    const traces::FlightRecord& e = t.ops->ops[t.next++];
    if (coalesced(e) > 0) {
      const AtomicRun run = run_of(e);
      t.credit = coalesced(e);
      t.writes = run.writes;
      t.each = run.reads;
      t.trailing = run.trailing;
      t.reads = run.writes > 0 ? run.reads : run.trailing;
      t.credited = {traces::FlightOp::kAtomicRead, e.thread, e.object,
                    left_at(e), 0};
    }
  }
  // What the run does next: its reads of the version, then its next write.
  if (t.credit > 0)
    t.credited.op = t.reads > 0 ? traces::FlightOp::kAtomicRead
                                : traces::FlightOp::kAtomicWrite;
  ++replayed_;
  if (t.checked() && checked_left_ > 0) --checked_left_;
}

std::uint64_t FlightReplay::on_op(Op op, const void* object,
                                  std::uint64_t value) {
  Scheduler* s = Scheduler::current();
  const StrandId me = s->current_strand();
  if (me >= of_.size()) of_.resize(me + 1, kNoThread);
  const traces::FlightRecord* e = next_of(me);
  if (e != nullptr && static_cast<Op>(e->op) != op) {
    diverge("it did " + with_article(op_name(op)) +
            " where the recording has the " + describe(*e));
    e = nullptr;
  }
  if (op == Op::kSpawn) {
    if (value >= of_.size()) of_.resize(value + 1, kNoThread);
    of_[value] =
        e == nullptr ? kNoThread : static_cast<std::uint32_t>(e->value);
  } else if (op == Op::kJoin && e != nullptr &&
             (value >= of_.size() || of_[value] != e->value)) {
    diverge("it joined another strand than the recording's " + describe(*e));
  } else if (on_object(op)) {
    if (e != nullptr) bind(*e, object);
    count(op, object);
  }
  if (e == nullptr) return value;
  const std::uint64_t recorded = e->value;
  if (is_timer(op)) check_timer(op, *e, value);
  advance(me);
  if (op == Op::kClock || op == Op::kTimerArm)
    return recorded - recording_.clock_base;
  return op == Op::kCvWait ? recorded : value;
}

// A timer operation against the recorded one: the firing is the timer
// armed at the recorded version (its deadline), a cancel has the recorded
// outcome.
void FlightReplay::check_timer(Op op, const traces::FlightRecord& e,
                               std::uint64_t value) {
  if (op == Op::kTimerArm) {
    armed_[e.version] = e.value - recording_.clock_base;
  } else if (op == Op::kTimerFire) {
    const auto a = armed_.find(e.value);
    if (a != armed_.end() && a->second != value)
      diverge("it fired the timer due at " + std::to_string(value) +
              " ns where the recording fired the one armed at version " +
              std::to_string(e.value) + ", due at " +
              std::to_string(a->second) + " ns");
  } else if (op == Op::kTimerCancel && (e.value & 1) != (value & 1)) {
    diverge(std::string("its timer cancel ") +
            (value & 1 ? "found the timer pending" : "came too late") +
            " where the recording's " + (e.value & 1 ? "did not" : "did"));
  }
}

void FlightReplay::bind(const traces::FlightRecord& e, const void* object) {
  const auto b = address_of_.find(e.object);
  if (b != address_of_.end() && b->second != object) {
    diverge("its " + describe(e) + " is on another object than the one " +
            "the recording's earlier operations on #" +
            std::to_string(e.object) + " were");
    return;
  }
  if (b == address_of_.end()) {
    const auto at = id_at_.find(object);
    if (at != id_at_.end() && at->second != e.object && e.version == 0)
      counts_.erase(object);  // a new object at a reused address
    address_of_[e.object] = object;
    id_at_[object] = e.object;
  }
  const Counts c = counts_for(e, object);
  if (ver(c.writes) != ver(e.version))
    diverge("its " + describe(e) + " came when the object was at version " +
            std::to_string(c.writes));
}

}  // namespace weft::sim::flight
