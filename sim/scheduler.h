// The Scheduler runs one schedule of a simulation on the calling thread: it
// owns the strands (fibers), the virtual clock and its timers, and makes
// every choice through its Strategy. Primitives reach it through
// Scheduler::current(), which is null outside a simulation; every call
// below except run() must be made from a strand of the running schedule.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/choice.h"
#include "sim/internal/fiber.h"
#include "sim/internal/uninstrumented.h"
#include "sim/source_location.h"
#include "sim/strategy.h"
#include "sim/sync_observer.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

namespace flight {
class ReplayHooks;
}

using Nanos = std::chrono::nanoseconds;
// A virtual time as reports write it, in its largest whole unit: "3s",
// "20ms", "5us", "7ns".
std::string format_time(Nanos t);

// Thrown into a strand to unwind it when its run is torn down. Not derived
// from std::exception so ordinary handlers let it pass; code that catches
// (...) must rethrow it.
struct StrandCancelled {};

enum class FailureKind : std::uint8_t {
  kAssertion = 0,         // WEFT_ASSERT or a GoogleTest expectation
  kException = 1,         // an exception escaped a strand
  kDeadlock = 2,          // nothing runnable, no timer pending
  kStepLimit = 3,         // livelock: too many steps
  kTimeLimit = 4,         // livelock: virtual time ran past the limit
  kLeak = 5,              // strands still blocked after the body returned
  kReplayDivergence = 6,  // the program left the recorded schedule
  // Found by the harness's crash containment (sim/harness/contain.h),
  // never by the scheduler itself:
  kCrash = 7,            // a fatal signal (abort, segfault, ...) in the body
  kExit = 8,             // the body called exit() (or _exit) mid-schedule
  kStackOverflow = 9,    // a strand ran into its stack's guard page
  kHang = 10,            // no choice point for WEFT_WATCHDOG real seconds
  kNondeterminism = 11,  // the same seed gave two schedules
  // Found by the race detector of instrumented code (sim/instrument/):
  kDataRace = 12,  // two unordered accesses to one location, one a write
};
std::string_view to_string(FailureKind kind);

struct Failure {
  FailureKind kind;
  std::string message;  // the whole story: what, where, blocked strands
  std::string strand;   // the strand it happened on ("" if none)
  StrandId strand_id = kNoStrand;
  std::uint64_t step = 0;
  Nanos time{0};  // virtual time
};

// Sanitizers make frames much larger; strands get room for that.
#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
inline constexpr std::size_t kDefaultStackSize = 1024 * 1024;
#else
inline constexpr std::size_t kDefaultStackSize = 256 * 1024;
#endif

struct RunLimits {
  std::uint64_t max_steps = 100'000;
  Nanos max_time = std::chrono::hours(24 * 365);
  std::size_t stack_size = kDefaultStackSize;
  bool spurious_wakeups = true;
};

// Anything a strand can block on describes itself for deadlock reports
// ("mutex 'accounts' held by strand 'writer'").
class Waitable {
 public:
  virtual ~Waitable() = default;
  virtual std::string describe() const = 0;
};

struct RunResult {
  std::optional<Failure> failure;
  Schedule schedule;
  std::uint64_t steps = 0;
  Nanos end_time{0};
  std::vector<std::string> strand_names;  // by id
  bool failed() const { return failure.has_value(); }
};

// Identifies a pending timer: deadline, then creation order (FIFO ties).
struct TimerKey {
  Nanos deadline{0};
  std::uint64_t seq = 0;
  auto operator<=>(const TimerKey&) const = default;
};

// What a component tells the observer happened, beyond the scheduler's own
// picks and wake-ups (numbered as traces::EventRecord::Kind).
enum class EventKind : std::uint8_t {
  kWorkItem = 0,
  kMessage = 1,
  kIoReady = 3,
  kFault = 4,
};

// What a strand did at a step, for the eye (a trace's op record, drawn on
// the timeline): the operation on its object ("lock mutex 'accounts'"), a
// value it read or wrote, where it was called, and whether the strand
// blocked there (then `what` names what it waits on). Built only while a
// run is observed; it changes nothing in the run.
struct OpNote {
  ChoiceKind kind = ChoiceKind::kYield;
  bool blocks = false;
  bool has_value = false;
  bool is_signed = false;  // `value` holds an int64's bits
  std::uint64_t value = 0;
  std::string what;
  SourceLocation where;
};

// What the simulated network or a protocol state machine tells the
// observer (a trace's net record, traces/net_records.h, numbered alike):
// a connection opened, bytes delivered, a fault fired, a state changed.
// Built only while a run is observed; it changes nothing in the run.
enum class NetEvent : std::uint8_t {
  kConnect = 0,
  kRefused = 1,
  kAccept = 2,
  kSend = 3,
  kDeliver = 4,
  kHalfClose = 5,
  kClose = 6,
  kReset = 7,
  kFault = 8,
  kState = 9,
};
struct NetNote {
  static constexpr std::uint32_t kNoSocket = 0xffffffffu;
  NetEvent event = NetEvent::kConnect;
  std::uint32_t socket = kNoSocket;
  std::uint32_t peer = kNoSocket;
  std::uint64_t bytes = 0;
  std::string name;    // an address, a fault site, a machine
  std::string detail;  // a fault's place, a transition "a -> b: why"
};

// Watches one run as it happens, to record it (sim/harness/schedule_trace.h).
// Each call comes from the scheduler between switches; an observer must not
// call back into the scheduler. Observing changes no choice.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_spawn(StrandId id, StrandId parent, const std::string& name,
                        std::uint64_t step, Nanos time) = 0;
  virtual void on_exit(StrandId id, std::uint64_t step, Nanos time) = 0;
  // Every pick, forced ones (count 1) included, and every value choice.
  virtual void on_choice(const Choice& choice, Nanos time) = 0;
  // `waker` made `woken` runnable (kNoStrand: the clock did).
  virtual void on_wake(StrandId waker, StrandId woken, std::uint64_t step,
                       Nanos time) = 0;
  // A component's event (a message delivered, a work item taken), caused
  // by strand `from` at step `from_step` and seen by the running strand
  // now. Observers that draw only the schedule ignore it.
  virtual void on_event(EventKind kind, StrandId from, std::uint64_t from_step,
                        StrandId to, std::uint64_t step, Nanos time,
                        const std::string& detail) {
    (void)kind, (void)from, (void)from_step, (void)to, (void)step, (void)time,
        (void)detail;
  }
  // What `strand` did at `step` (see OpNote). Observers that draw only
  // the schedule ignore it.
  virtual void on_op(StrandId strand, std::uint64_t step, const OpNote& note) {
    (void)strand, (void)step, (void)note;
  }
  // A network or state-machine event seen by `strand` at `step` (see
  // NetNote). Observers that draw only the schedule ignore it.
  virtual void on_net(StrandId strand, std::uint64_t step,
                      const NetNote& note) {
    (void)strand, (void)step, (void)note;
  }
  // Once, at the end of a run that failed.
  virtual void on_failure(const Failure& failure) = 0;
};

class Scheduler;

// Runs each schedule somewhere else: `weft run` forks one process per
// schedule from a snapshot of the program (replay/run/). Set for the whole
// process with Scheduler::set_isolation; the isolation runs the schedule
// with Scheduler::run_here and gives back the same RunResult, having told
// `strategy` everything a run in this process would have told it.
class RunIsolation {
 public:
  virtual ~RunIsolation() = default;
  virtual RunResult run(Scheduler& sched, Strategy& strategy,
                        std::uint64_t seed,
                        const std::function<void()>& body) = 0;
};

class Scheduler {
 public:
  explicit Scheduler(RunLimits limits);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `body` as strand "main" under one schedule that `strategy` makes,
  // seeded `seed`. Stacks and strand records are reused across runs.
  RunResult run(Strategy& strategy, std::uint64_t seed,
                const std::function<void()>& body);
  // run() in this process whatever the isolation says.
  RunResult run_here(Strategy& strategy, std::uint64_t seed,
                     const std::function<void()>& body);
  // Every later run() of any scheduler goes through `isolation` (null:
  // none, the default). Not owned.
  static void set_isolation(RunIsolation* isolation) { isolation_ = isolation; }
  // Strand stacks this scheduler has mapped, and mapping up to `n` ahead:
  // an isolation that forks per schedule maps in the parent the stacks its
  // children would otherwise each map for themselves.
  std::size_t stacks_mapped() const { return stacks_.mapped(); }
  void reserve_stacks(std::size_t n) { stacks_.reserve(n); }

  // Always inlined: weft's hook runtime (sim/instrument/) calls it, and must
  // not reach a copy of it compiled into an instrumented unit.
  [[gnu::always_inline]] static Scheduler* current() { return current_; }
  // Observes the runs that follow (null: none). Not owned.
  void set_observer(RunObserver* observer) { observer_ = observer; }
  // Replays a flight recording in the runs that follow (sim/flight.h; null:
  // none). Not owned.
  void set_replay_hooks(flight::ReplayHooks* hooks) { hooks_ = hooks; }
  flight::ReplayHooks* replay_hooks() const {
    return tearing_down_ ? nullptr : hooks_;
  }
  // The process's SyncObserver (null: none), seen by every scheduler on
  // every thread. Set it before any simulation runs. Not owned.
  static void set_sync_observer(SyncObserver* observer) {
    sync_observer_ = observer;
  }
  static SyncObserver* sync_observer() { return sync_observer_; }

  // --- strands -----------------------------------------------------------
  StrandId current_strand() const { return current_id_; }
  const std::string& strand_name(StrandId id) const;
  // Creates a runnable strand; a choice point (kSpawn) follows, where the
  // new strand may already run. `created`, if given, is called with its id
  // before that point (what the creator must publish first, as
  // pthread_create stores the new thread's handle before it starts).
  StrandId spawn(std::string name, std::function<void()> body,
                 const std::function<void(StrandId)>& created = {});
  // Blocks until strand `id` finished (choice point kJoin).
  void join(StrandId id, SourceLocation where);
  // As join(), giving up at virtual time `deadline`: whether the strand
  // finished before it (false also when the run is torn down).
  bool join_until(StrandId id, Nanos deadline, SourceLocation where);
  bool finished(StrandId id) const;
  // What the running strand last told weft it was doing (an interposed
  // call's name, sim/intercept/), for the watchdog's report of a strand
  // stuck outside weft. A static string; cleared when the strand starts.
  void set_activity(const char* what) {
    strands_[current_id_]->activity = what;
  }
  // The usable stack of strand `id`: its lowest address and its size.
  std::pair<const void*, std::size_t> strand_stack(StrandId id) const {
    const internal::Context& c = strands_[id]->ctx;
    return {c.stack_bottom, c.stack_size};
  }
  const char* activity(StrandId id) const {
    return id < strands_.size() ? strands_[id]->activity : nullptr;
  }
  // The failure recorded so far in the running schedule, if any.
  const std::optional<Failure>& failure() const { return failure_; }
  RunObserver* observer() const { return observer_; }

  // --- choices -----------------------------------------------------------
  // The strategy may switch to another enabled strand here. A kYield point
  // prefers any other strand, so spin loops make progress. Operations that
  // run in destructors (unlock, release) pass may_unwind = false: if the run
  // is torn down while they wait, they return and the strand is unwound at
  // its next choice point instead, never from inside a noexcept destructor.
  void choice_point(ChoiceKind kind, bool may_unwind = true);
  // As above, naming the operation that follows (the strand's pending
  // operation, seen by strategies through ChoicePoint::pending). The form
  // without it records {kind, Access::kAll}: dependent on everything.
  void choice_point(ChoiceKind kind, const PendingOp& op,
                    bool may_unwind = true);
  // Asks the strategy for a value in [0, count), recorded like any choice.
  std::uint32_t choose_value(ChoiceKind kind, std::uint32_t count);
  // Whether the running strand's wait returns spuriously now: a value
  // choice (kind) when RunLimits::spurious_wakeups is set, offered to a
  // strand again only once another strand has run since its last one.
  // Spurious wake-ups on end with nothing else running are no schedule of
  // real threads, and a search whose preemptions are spent would follow
  // them into the step limit and report a livelock.
  bool spurious_wakeup(ChoiceKind kind);
  // Suspends the current strand until wake(); returns false when the wait
  // must be abandoned because the run is being torn down while unwinding.
  bool block(ChoiceKind kind, const Waitable* on, const char* op,
             SourceLocation where);
  // As block(), but also wakes at virtual time `deadline`. Returns whether
  // the strand was woken before the deadline.
  bool block_until(ChoiceKind kind, const Waitable* on, const char* op,
                   SourceLocation where, Nanos deadline);
  void wake(StrandId id);
  // True when the running strand is being torn down at the end of a run
  // inside a NoUnwindScope: its waits return at once (block() gives
  // false), so a destructor's wait loop must stop when this is true.
  bool abandoning() const {
    return tearing_down_ && current_id_ != kNoStrand &&
           strands_[current_id_]->cancelled;
  }
  // Ends the running strand, resumed by the teardown (abandoning()), where
  // its frames must not be unwound: code not written for weft, whose
  // noexcept frames (std::latch::wait, a destructor that relocks) would
  // turn StrandCancelled into std::terminate. The strand is never resumed;
  // its stack and what its frames own are leaked, not destroyed.
  [[noreturn]] void park_torn_down_strand();

  // --- virtual time ------------------------------------------------------
  Nanos now() const { return now_; }
  // Moves virtual time forward to `t` (a replayed clock reading); never
  // back. Timers that fall due fire when the strands next all block.
  void set_time_at_least(Nanos t) { now_ = std::max(now_, t); }
  void sleep_until(Nanos deadline, SourceLocation where);
  TimerKey add_timer(Nanos deadline, std::function<void()> callback);
  // Moves virtual time forward by `by` at once, as a machine waking from
  // suspension sees it: every timer whose deadline it passes is due, and
  // they fire in deadline order as soon as nothing else can run. A fault
  // of the simulated network (runtime/sim_network.h), drawn as a choice.
  void jump_clock(Nanos by) { now_ += by; }
  bool cancel_timer(TimerKey key);

  // --- failures ----------------------------------------------------------
  // Records the first failure; the run stops at the next choice point.
  void fail(FailureKind kind, std::string message, SourceLocation where = {});
  bool has_failed() const { return failure_.has_value(); }
  // Tells the observer, if one watches, of a component's event seen by the
  // running strand (see RunObserver::on_event). Not a choice point: one
  // branch when nothing observes. `detail` is built only when needed.
  template <class Detail>
  void note_event(EventKind kind, StrandId from, std::uint64_t from_step,
                  Detail&& detail) {
    if (observer_ != nullptr && !tearing_down_)
      observer_->on_event(kind, from, from_step, current_id_, step_, now_,
                          std::string(detail()));
  }
  // Tells the observer, if one watches, what the running strand just did:
  // `make()` returns the OpNote, and is called only then. Not a choice
  // point: one branch when nothing observes.
  template <class Make>
  void note_op(Make&& make) {
    if (observer_ != nullptr && !tearing_down_) [[unlikely]]
      observer_->on_op(current_id_, step_, make());
  }
  // Tells the observer, if one watches, of a network or state-machine
  // event (see NetNote); `make()` is called only then. Not a choice point.
  template <class Make>
  void note_net(Make&& make) {
    if (observer_ != nullptr && !tearing_down_) [[unlikely]]
      observer_->on_net(current_id_, step_, make());
  }
  std::uint64_t step() const { return step_; }
  // The choices recorded so far in the running schedule (read by the
  // harness's crash handler, which copies them without allocating).
  const Schedule& schedule_so_far() const { return schedule_; }
  bool tearing_down() const { return tearing_down_; }
  const RunLimits& limits() const { return limits_; }
  // Ids for default object names, handed out in order within a run.
  std::uint32_t next_object_id() { return ++object_ids_; }
  // True while an object is described for an observer only: it must not
  // be handed an id then (Named::label), or a recorded run would number
  // objects otherwise than the run it records.
  bool naming_quietly() const { return naming_quietly_; }
  // Counts runs, so handles from an earlier run are recognised as stale.
  std::uint64_t run_id() const { return run_id_; }

 private:
  enum class State : std::uint8_t { kRunnable, kBlocked, kFinished };
  struct Strand {
    std::string name;
    std::function<void()> body;
    internal::Context ctx;
    State state = State::kRunnable;
    bool system = false;
    bool cancelled = false;
    bool parked = false;             // see park_torn_down_strand()
    int no_unwind = 0;               // NoUnwindScope depth
    const char* activity = nullptr;  // see set_activity()
    const Waitable* waiting_on = nullptr;
    const char* wait_op = nullptr;
    SourceLocation wait_where;
    // switches_ when it last woke spuriously (see spurious_wakeup()).
    std::uint64_t spurious_at = ~std::uint64_t{0};
    std::vector<StrandId> joiners;
  };
  struct TimerEntry {
    StrandId sleeper = kNoStrand;    // a sleeping strand, or
    std::function<void()> callback;  // a callback for the timer strand
  };

  StrandId spawn_internal(std::string name, std::function<void()> body,
                          bool system);
  static void leak_parked(Strand& s);
  internal::Context& context_of(StrandId id);
  void switch_to(StrandId next);
  void after_resume(bool may_unwind = true);
  void step_limit_exceeded();
  // " Strand 'x' was about to read atomic 'y'." for a strand whose next
  // operation is on an atomic; "" otherwise.
  std::string about_to(StrandId id) const;
  bool join_strand(StrandId id, const Nanos* deadline, SourceLocation where);
  StrandId pick(ChoiceKind kind);
  StrandId choose_strand(ChoiceKind kind, std::span<const StrandId> enabled,
                         bool current_enabled);
  void reschedule(ChoiceKind kind, bool may_unwind = true);
  bool advance_time();
  void report_stuck();
  void wake_from(StrandId waker, StrandId id);
  void mark_runnable(StrandId id);
  void mark_not_runnable(StrandId id);
  void finish_strand(StrandId id);
  void timer_strand_body();
  bool fire_replayed_timer();
  void start_timer_strand();
  std::string describe_blocked() const;
  boost::context::fiber strand_entry(StrandId id,
                                     boost::context::fiber&& caller);
  static std::string name_of(StrandId id, const void* self);
  friend class NoUnwindScope;

  constinit static thread_local Scheduler* current_;
  constinit static inline RunIsolation* isolation_ = nullptr;
  constinit static SyncObserver* sync_observer_;

  Strategy* strategy_ = nullptr;
  RunObserver* observer_ = nullptr;
  flight::ReplayHooks* hooks_ = nullptr;
  RunLimits limits_;
  internal::StackPool stacks_;
  internal::Context main_ctx_;
  internal::Context* switch_from_ = nullptr;

  std::vector<std::unique_ptr<Strand>> strands_;
  std::vector<std::unique_ptr<Strand>> spare_;
  std::vector<StrandId> runnable_;   // ascending ids
  std::vector<PendingOp> pending_;   // by strand id: its next operation
  bool forced_to_strategy_ = false;  // Strategy::sees_forced_points()
  StrandId current_id_ = kNoStrand;
  std::size_t live_user_strands_ = 0;
  bool main_finished_ = false;
  bool tearing_down_ = false;

  std::uint64_t step_ = 0;
  std::uint64_t switches_ = 0;  // from one strand to another, this run
  Nanos now_{0};
  std::uint64_t timer_seq_ = 0;
  std::map<TimerKey, TimerEntry> timers_;
  // Callbacks whose deadline passed, in firing order; a callback stays
  // cancellable until the timer strand starts it.
  std::vector<std::pair<TimerKey, std::function<void()>>> due_callbacks_;
  std::size_t due_next_ = 0;
  StrandId timer_strand_ = kNoStrand;
  std::uint32_t object_ids_ = 0;
  bool naming_quietly_ = false;
  std::uint64_t run_id_ = 0;

  Schedule schedule_;
  std::optional<Failure> failure_;
};

// --- the switch path, inline ---------------------------------------------
// The path from a primitive to the fiber jump is inline: every frame left
// between a strand's call into weft and the jump returns, on the far side,
// through a return address the CPU did not predict, and that dominated the
// cost of a choice point (docs/performance.md).

WEFT_UNINSTRUMENTED inline internal::Context& Scheduler::context_of(
    StrandId id) {
  return id == kNoStrand ? main_ctx_ : strands_[id]->ctx;
}

WEFT_UNINSTRUMENTED inline void Scheduler::switch_to(StrandId next) {
  const StrandId me = current_id_;
  internal::Context& from = context_of(me);
  internal::Context& to = context_of(next);
  current_id_ = next;
  ++switches_;
  switch_from_ = &from;
  internal::set_running_strand(
      next == kNoStrand ? "main" : strands_[next]->name.c_str(), &step_);
  internal::swap_exception_state(from, to);
  internal::start_switch(from, to, false);
  boost::context::fiber caller = std::move(to.fiber).resume();
  // Back in `me`: whoever switched here set current_id_ to us.
  internal::finish_switch(context_of(me), switch_from_, std::move(caller));
  switch_from_ = nullptr;
}

WEFT_UNINSTRUMENTED inline void Scheduler::after_resume(bool may_unwind) {
  if (may_unwind && current_id_ != kNoStrand &&
      strands_[current_id_]->cancelled &&
      strands_[current_id_]->no_unwind == 0 && std::uncaught_exceptions() == 0)
    throw StrandCancelled{};
}

WEFT_UNINSTRUMENTED inline void Scheduler::reschedule(ChoiceKind kind,
                                                      bool may_unwind) {
  const StrandId next = pick(kind);
  if (next != current_id_) switch_to(next);
  after_resume(may_unwind);
}

WEFT_UNINSTRUMENTED inline void Scheduler::choice_point(ChoiceKind kind,
                                                        bool may_unwind) {
  choice_point(kind, PendingOp{kind, Access::kAll}, may_unwind);
}

WEFT_UNINSTRUMENTED inline void Scheduler::choice_point(ChoiceKind kind,
                                                        const PendingOp& op,
                                                        bool may_unwind) {
  if (tearing_down_) [[unlikely]] {
    after_resume(may_unwind);
    return;
  }
  pending_[current_id_] = op;
  if (++step_ > limits_.max_steps) [[unlikely]]
    step_limit_exceeded();
  reschedule(kind, may_unwind);
  if (sync_observer_ != nullptr && !tearing_down_) [[unlikely]]
    sync_observer_->on_operation(current_id_, op);
}

// Thrown by WEFT_ASSERT after recording the failure, to stop the strand.
struct StrandAborted {};

// Inside this scope the running strand is never unwound by a teardown: a
// destructor that waits (joins a worker, waits for a pool to drain) puts
// one around the wait, so a deadlock found while it waits is reported
// like any other instead of throwing StrandCancelled out of a destructor.
// When the run is torn down the wait returns early and abandoning() is
// true; the destructor must then give up waiting. No-op outside a
// simulation.
class NoUnwindScope {
 public:
  NoUnwindScope();
  ~NoUnwindScope();
  NoUnwindScope(const NoUnwindScope&) = delete;
  NoUnwindScope& operator=(const NoUnwindScope&) = delete;

 private:
  Scheduler* sched_;
  StrandId strand_;
};

// Whether the running strand should stop waiting: see NoUnwindScope.
inline bool abandoning() {
  const Scheduler* s = Scheduler::current();
  return s != nullptr && s->abandoning();
}

WEFT_HEADER_CODE_END
}  // namespace weft::sim
