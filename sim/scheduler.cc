#include "sim/scheduler.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "sim/flight.h"

namespace weft::sim {

constinit thread_local Scheduler* Scheduler::current_ = nullptr;
constinit SyncObserver* Scheduler::sync_observer_ = nullptr;

std::string_view to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::kAssertion:
      return "assertion failed";
    case FailureKind::kException:
      return "uncaught exception";
    case FailureKind::kDeadlock:
      return "deadlock";
    case FailureKind::kStepLimit:
      return "step limit exceeded";
    case FailureKind::kTimeLimit:
      return "virtual time limit exceeded";
    case FailureKind::kLeak:
      return "leaked strands";
    case FailureKind::kReplayDivergence:
      return "replay diverged";
    case FailureKind::kCrash:
      return "crashed";
    case FailureKind::kExit:
      return "exited";
    case FailureKind::kStackOverflow:
      return "stack overflow";
    case FailureKind::kHang:
      return "hung";
    case FailureKind::kNondeterminism:
      return "nondeterministic";
    case FailureKind::kDataRace:
      return "data race";
  }
  return "failure";
}

namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = (status == 0 && d != nullptr) ? d : name;
  std::free(d);
  return out;
}

}  // namespace

Scheduler::Scheduler(RunLimits limits)
    : limits_(limits), stacks_(limits.stack_size) {
  internal::install_overflow_handler();
}

Scheduler::~Scheduler() = default;

std::string Scheduler::name_of(StrandId id, const void* self) {
  const auto* s = static_cast<const Scheduler*>(self);
  if (id < s->strands_.size()) return s->strands_[id]->name;
  return "#" + std::to_string(id);
}

const std::string& Scheduler::strand_name(StrandId id) const {
  static const std::string kOutside = "(scheduler)";
  return id < strands_.size() ? strands_[id]->name : kOutside;
}

void Scheduler::step_limit_exceeded() {
  if (failure_) return;
  fail(FailureKind::kStepLimit,
       "the schedule exceeded " + std::to_string(limits_.max_steps) +
           " steps without finishing. This is often a livelock: strands "
           "that keep retrying without progress, or a spin loop waiting "
           "for a condition no other strand can make true. Raise "
           "WEFT_MAX_STEPS if the test is simply long." +
           about_to(current_id_));
}

std::string Scheduler::about_to(StrandId id) const {
  if (id >= pending_.size() || pending_[id].kind != ChoiceKind::kAtomic)
    return "";
  const PendingOp& op = pending_[id];
  const std::string what = op.access == Access::kRead ? "to read" : "to modify";
  return " Strand '" + strand_name(id) + "' was about " + what + " " +
         (op.name ? "atomic '" + std::string(op.name) + "'"
                  : std::string("an unnamed weft::Atomic (name it, "
                                "Atomic<T> x{v, \"name\"}, to see which)")) +
         ".";
}

RunResult Scheduler::run(Strategy& strategy, std::uint64_t seed,
                         const std::function<void()>& body) {
  if (isolation_ != nullptr) [[unlikely]]
    return isolation_->run(*this, strategy, seed, body);
  return run_here(strategy, seed, body);
}

RunResult Scheduler::run_here(Strategy& strategy, std::uint64_t seed,
                              const std::function<void()>& body) {
  strategy_ = &strategy;
  // Reset the world; strand records and stacks are reused across runs.
  for (auto& s : strands_) spare_.push_back(std::move(s));
  strands_.clear();
  runnable_.clear();
  current_id_ = kNoStrand;
  live_user_strands_ = 0;
  main_finished_ = false;
  tearing_down_ = false;
  step_ = 0;
  switches_ = 0;
  now_ = Nanos{0};
  timer_seq_ = 0;
  timers_.clear();
  due_callbacks_.clear();
  due_next_ = 0;
  timer_strand_ = kNoStrand;
  object_ids_ = 0;
  ++run_id_;
  schedule_.clear();
  failure_.reset();
  if (auto* replay = dynamic_cast<ReplayStrategy*>(strategy_))
    replay->set_strand_namer(&Scheduler::name_of, this);
  strategy_->begin(seed);
  forced_to_strategy_ = strategy_->sees_forced_points();

  Scheduler* const outer = current_;
  current_ = this;
  internal::init_thread_context(main_ctx_);
  internal::set_running_strand("main", &step_);
  if (sync_observer_ != nullptr) sync_observer_->on_run_begin();

  spawn_internal("main", body, false);
  switch_to(0);  // returns when the run is over

  // Tear down: unwind every unfinished strand, newest first, so objects a
  // parent owns outlive the children that use them.
  tearing_down_ = true;
  for (StrandId id = static_cast<StrandId>(strands_.size()); id-- > 0;) {
    Strand& s = *strands_[id];
    if (s.state == State::kFinished) continue;
    s.cancelled = true;
    switch_to(id);
  }
  for (auto& s : strands_) {
    if (s->parked) leak_parked(*s);
    internal::destroy_strand_context(s->ctx);
  }
  current_ = outer;
  internal::set_running_strand(nullptr, nullptr);

  strategy_->end(schedule_.size());
  if (observer_ && failure_) observer_->on_failure(*failure_);
  RunResult result;
  result.failure = std::move(failure_);
  result.schedule = schedule_;
  result.steps = step_;
  result.end_time = now_;
  for (auto& s : strands_) result.strand_names.push_back(s->name);
  return result;
}

StrandId Scheduler::spawn_internal(std::string name, std::function<void()> body,
                                   bool system) {
  const auto id = static_cast<StrandId>(strands_.size());
  std::unique_ptr<Strand> s;
  if (!spare_.empty()) {
    s = std::move(spare_.back());
    spare_.pop_back();
    *s = Strand{};
  } else {
    s = std::make_unique<Strand>();
  }
  s->name = name.empty() ? "strand-" + std::to_string(id) : std::move(name);
  s->body = std::move(body);
  s->system = system;
  boost::context::stack_context sctx = stacks_.allocate();
  internal::init_strand_context(s->ctx, sctx);
  // The fiber takes ownership of the stack and gives it back to the pool
  // when its function returns.
  s->ctx.fiber = boost::context::fiber(
      std::allocator_arg,
      boost::context::preallocated(sctx.sp, sctx.size, sctx),
      internal::PooledStackAllocator{&stacks_},
      [this, id](boost::context::fiber&& caller) {
        return strand_entry(id, std::move(caller));
      });
  strands_.push_back(std::move(s));
  if (pending_.size() <= id) pending_.resize(id + 1);
  pending_[id] = PendingOp{};  // its start: nothing shared yet
  if (observer_)
    observer_->on_spawn(id, current_id_, strands_[id]->name, step_, now_);
  if (sync_observer_ != nullptr)
    sync_observer_->on_spawn(id == 0 ? kNoStrand : current_id_, id,
                             strands_[id]->ctx.stack_bottom,
                             strands_[id]->ctx.stack_size);
  if (!system) ++live_user_strands_;
  mark_runnable(id);
  return id;
}

StrandId Scheduler::spawn(std::string name, std::function<void()> body,
                          const std::function<void(StrandId)>& created) {
  const StrandId id = spawn_internal(std::move(name), std::move(body), false);
  if (created) created(id);
  if (flight::ReplayHooks* h = replay_hooks())
    h->on_op(flight::Op::kSpawn, nullptr, id);
  // The spawn is done: what follows touches nothing until the next point.
  choice_point(ChoiceKind::kSpawn, PendingOp{});
  return id;
}

boost::context::fiber Scheduler::strand_entry(StrandId id,
                                              boost::context::fiber&& caller) {
  internal::finish_switch(strands_[id]->ctx, switch_from_, std::move(caller));
  switch_from_ = nullptr;
  if (!strands_[id]->cancelled) {
    if (sync_observer_ != nullptr) sync_observer_->on_body_begin(id);
    try {
      strands_[id]->body();
    } catch (const StrandCancelled&) {
      // Torn down at the end of a run: not a failure of the program.
    } catch (const StrandAborted&) {
      // WEFT_ASSERT already recorded the failure.
    } catch (const std::exception& e) {
      fail(FailureKind::kException,
           "strand '" + strands_[id]->name + "' threw " +
               demangle(typeid(e).name()) + ": " + e.what());
    } catch (...) {
      fail(FailureKind::kException,
           "strand '" + strands_[id]->name + "' threw an exception of type " +
               demangle(abi::__cxa_current_exception_type()->name()));
    }
  }
  if (sync_observer_ != nullptr) sync_observer_->on_body_end(id);
  // The body's captures die here, on the strand's own stack.
  strands_[id]->body = nullptr;
  finish_strand(id);

  StrandId next = kNoStrand;
  if (!tearing_down_ && !failure_) next = pick(ChoiceKind::kExit);
  internal::Context& to = context_of(next);
  current_id_ = next;
  ++switches_;
  switch_from_ = nullptr;  // this context never resumes
  internal::set_running_strand(
      next == kNoStrand ? "main" : strands_[next]->name.c_str(), &step_);
  internal::swap_exception_state(strands_[id]->ctx, to);
  internal::start_switch(strands_[id]->ctx, to, true);
  return std::move(to.fiber);
}

void Scheduler::park_torn_down_strand() {
  const StrandId id = current_id_;
  strands_[id]->parked = true;
  finish_strand(id);
  switch_to(kNoStrand);  // back to the teardown, never to return here
  std::abort();
}

void Scheduler::leak_parked(Strand& s) {
  // Destroying a suspended fiber unwinds it, and the body's captures may
  // be in use by its frames: both are kept, in a list nothing reads.
  struct Parked {
    boost::context::fiber fiber;
    std::function<void()> body;
  };
  static auto* parked = new std::vector<Parked>();
  parked->push_back(Parked{std::move(s.ctx.fiber), std::move(s.body)});
  s.parked = false;
}

void Scheduler::finish_strand(StrandId id) {
  Strand& s = *strands_[id];
  mark_not_runnable(id);
  s.state = State::kFinished;
  // Teardown (unwinding what a failed run left) is not part of the run.
  if (observer_ && !tearing_down_) observer_->on_exit(id, step_, now_);
  if (!s.system) {
    --live_user_strands_;
    if (id == 0) main_finished_ = true;
  }
  for (StrandId j : s.joiners) wake(j);
  s.joiners.clear();
}

bool Scheduler::finished(StrandId id) const {
  return strands_[id]->state == State::kFinished;
}

// runnable_ stays a sorted vector, so point.strands is a plain span: an
// insert or erase moves at most 4 KB at 1,000 strands, and the strategy is
// told of the change instead of rescanning the set (docs/performance.md).
void Scheduler::mark_runnable(StrandId id) {
  auto it = std::lower_bound(runnable_.begin(), runnable_.end(), id);
  strands_[id]->state = State::kRunnable;
  if (it != runnable_.end() && *it == id) return;
  runnable_.insert(it, id);
  strategy_->runnable_changed(id, true);
}

void Scheduler::mark_not_runnable(StrandId id) {
  auto it = std::lower_bound(runnable_.begin(), runnable_.end(), id);
  if (it == runnable_.end() || *it != id) return;
  runnable_.erase(it);
  strategy_->runnable_changed(id, false);
}

namespace {

// At a kYield point the running strand steps out of the ascending runnable
// list while the strategy chooses: the shorter side of the list moves one
// place over it, and moves back when the choice is made.
class StepAside {
 public:
  StepAside(std::vector<StrandId>& ids, StrandId me) : ids_(ids), me_(me) {
    pos_ = static_cast<std::size_t>(
        std::lower_bound(ids.begin(), ids.end(), me) - ids.begin());
    front_ = pos_ < ids.size() - 1 - pos_;
    auto* d = ids.data();
    if (front_)
      std::copy_backward(d, d + pos_, d + pos_ + 1);
    else
      std::copy(d + pos_ + 1, d + ids.size(), d + pos_);
  }
  ~StepAside() {
    auto* d = ids_.data();
    if (front_)
      std::copy(d + 1, d + pos_ + 1, d);
    else
      std::copy_backward(d + pos_, d + ids_.size() - 1, d + ids_.size());
    d[pos_] = me_;
  }
  StepAside(const StepAside&) = delete;
  StepAside& operator=(const StepAside&) = delete;
  std::span<const StrandId> others() const {
    return {ids_.data() + (front_ ? 1 : 0), ids_.size() - 1};
  }

 private:
  std::vector<StrandId>& ids_;
  StrandId me_;
  std::size_t pos_ = 0;
  bool front_ = false;
};

}  // namespace

StrandId Scheduler::pick(ChoiceKind kind) {
  for (;;) {
    if (failure_) return kNoStrand;
    if (live_user_strands_ == 0) return kNoStrand;  // the run is complete
    if (runnable_.empty()) {
      if (!advance_time()) {
        if (!failure_) report_stuck();
        return kNoStrand;
      }
      continue;
    }
    const bool current_enabled =
        current_id_ != kNoStrand &&
        strands_[current_id_]->state == State::kRunnable;
    if (kind == ChoiceKind::kYield && current_enabled && runnable_.size() > 1 &&
        !strategy_->keeps_yielder()) {
      const StepAside aside(runnable_, current_id_);
      return choose_strand(kind, aside.others(), current_enabled);
    }
    return choose_strand(kind, runnable_, current_enabled);
  }
}

StrandId Scheduler::choose_strand(ChoiceKind kind,
                                  std::span<const StrandId> enabled,
                                  bool current_enabled) {
  if (enabled.size() == 1 && !forced_to_strategy_) {
    if (observer_)
      observer_->on_choice(
          Choice{kind, false, current_id_, 1, 0, enabled[0],
                 current_enabled && enabled[0] != current_id_, step_},
          now_);
    return enabled[0];
  }
  const ChoicePoint point{
      kind,    false,       static_cast<std::uint32_t>(enabled.size()),
      enabled, current_id_, step_,
      pending_};
  std::uint32_t index = 0;
  try {
    index = strategy_->choose(point);
  } catch (const ReplayDivergence& e) {
    fail(FailureKind::kReplayDivergence, e.what());
    return kNoStrand;
  }
  if (index >= point.count) index = 0;
  const StrandId picked = enabled[index];
  if (point.count == 1) {  // forced, shown to the strategy: not recorded
    if (observer_)
      observer_->on_choice(
          Choice{kind, false, current_id_, 1, 0, picked,
                 current_enabled && picked != current_id_, step_},
          now_);
    return picked;
  }
  schedule_.push_back(Choice{kind, false, current_id_, point.count, index,
                             picked, current_enabled && picked != current_id_,
                             step_});
  if (observer_) observer_->on_choice(schedule_.back(), now_);
  return picked;
}

std::uint32_t Scheduler::choose_value(ChoiceKind kind, std::uint32_t count) {
  if (count <= 1 || tearing_down_) return 0;
  ++step_;
  const ChoicePoint point{kind, true, count, {}, current_id_, step_};
  std::uint32_t value = 0;
  try {
    value = strategy_->choose(point);
  } catch (const ReplayDivergence& e) {
    fail(FailureKind::kReplayDivergence, e.what());
    reschedule(kind);  // ends the run
    return 0;
  }
  if (value >= count) value = 0;
  schedule_.push_back(
      Choice{kind, true, current_id_, count, value, value, false, step_});
  if (observer_) observer_->on_choice(schedule_.back(), now_);
  return value;
}

bool Scheduler::spurious_wakeup(ChoiceKind kind) {
  if (!limits_.spurious_wakeups) return false;
  Strand& s = *strands_[current_id_];
  if (s.spurious_at == switches_ || choose_value(kind, 2) != 1) return false;
  s.spurious_at = switches_;
  return true;
}

bool Scheduler::block(ChoiceKind kind, const Waitable* on, const char* op,
                      SourceLocation where) {
  if (tearing_down_) {
    after_resume();  // throws unless already unwinding
    return false;
  }
  Strand& s = *strands_[current_id_];
  s.state = State::kBlocked;
  s.waiting_on = on;
  s.wait_op = op;
  s.wait_where = where;
  mark_not_runnable(current_id_);
  ++step_;
  if (observer_ != nullptr) {
    OpNote note;
    note.kind = kind;
    note.blocks = true;
    naming_quietly_ = true;
    note.what = std::string(op) + " " +
                (on != nullptr ? on->describe() : std::string("?"));
    naming_quietly_ = false;
    note.where = where;
    observer_->on_op(current_id_, step_, note);
  }
  reschedule(kind);
  s.waiting_on = nullptr;
  s.wait_op = nullptr;
  // Resumed by the teardown inside a NoUnwindScope: the wait is abandoned.
  return !s.cancelled;
}

NoUnwindScope::NoUnwindScope()
    : sched_(Scheduler::current()),
      strand_(sched_ ? sched_->current_strand() : kNoStrand) {
  if (strand_ != kNoStrand) ++sched_->strands_[strand_]->no_unwind;
}

NoUnwindScope::~NoUnwindScope() {
  if (strand_ != kNoStrand) --sched_->strands_[strand_]->no_unwind;
}

bool Scheduler::block_until(ChoiceKind kind, const Waitable* on, const char* op,
                            SourceLocation where, Nanos deadline) {
  if (deadline <= now_) {
    choice_point(kind);
    return false;
  }
  const TimerKey key{deadline, ++timer_seq_};
  timers_.emplace(key, TimerEntry{current_id_, nullptr});
  if (!block(kind, on, op, where)) return false;
  // If the timer is still pending, something else woke us first.
  return timers_.erase(key) > 0;
}

void Scheduler::wake(StrandId id) { wake_from(current_id_, id); }

void Scheduler::wake_from(StrandId waker, StrandId id) {
  Strand& s = *strands_[id];
  if (s.state != State::kBlocked) return;
  mark_runnable(id);
  if (observer_ && !tearing_down_) observer_->on_wake(waker, id, step_, now_);
  if (sync_observer_ != nullptr && !tearing_down_)
    sync_observer_->on_woken(id, pending_[id]);
}

void Scheduler::join(StrandId id, SourceLocation where) {
  join_strand(id, nullptr, where);
}

bool Scheduler::join_until(StrandId id, Nanos deadline, SourceLocation where) {
  return join_strand(id, &deadline, where);
}

bool Scheduler::join_strand(StrandId id, const Nanos* deadline,
                            SourceLocation where) {
  choice_point(ChoiceKind::kJoin, PendingOp{ChoiceKind::kJoin, Access::kNone,
                                            nullptr, nullptr, id});
  struct JoinTarget final : Waitable {
    const Scheduler* sched;
    StrandId id;
    std::string describe() const override {
      return "the end of strand '" + sched->strand_name(id) + "'";
    }
  } target;
  target.sched = this;
  target.id = id;
  while (strands_[id]->state != State::kFinished) {
    std::vector<StrandId>& joiners = strands_[id]->joiners;
    joiners.push_back(current_id_);
    const bool woken =
        deadline == nullptr
            ? block(ChoiceKind::kJoin, &target, "join", where)
            : block_until(ChoiceKind::kJoin, &target, "join", where, *deadline);
    if (!woken) {  // the deadline passed, or the run is torn down
      std::erase(joiners, current_id_);
      return false;
    }
  }
  note_op([&] {
    return OpNote{ChoiceKind::kJoin,
                  false,
                  false,
                  false,
                  0,
                  "join strand '" + strand_name(id) + "'",
                  where};
  });
  return true;
}

// --- failures ----------------------------------------------------------------

void Scheduler::fail(FailureKind kind, std::string message,
                     SourceLocation where) {
  if (failure_) return;
  Failure f;
  f.kind = kind;
  f.message = std::move(message);
  if (where.line != 0) f.message += " (at " + where.to_string() + ")";
  f.strand = current_id_ == kNoStrand ? "" : strands_[current_id_]->name;
  f.strand_id = current_id_;
  f.step = step_;
  f.time = now_;
  failure_ = std::move(f);
}

std::string Scheduler::describe_blocked() const {
  std::string out;
  for (StrandId id = 0; id < strands_.size(); ++id) {
    const Strand& s = *strands_[id];
    if (s.state != State::kBlocked || s.system) continue;
    out += "  strand '" + s.name + "' (#" + std::to_string(id) + ") waits to " +
           (s.wait_op ? s.wait_op : "run") + " " +
           (s.waiting_on ? s.waiting_on->describe() : std::string("?")) +
           " at " + s.wait_where.to_string() + "\n";
  }
  return out;
}

void Scheduler::report_stuck() {
  const std::string blocked = describe_blocked();
  if (main_finished_) {
    fail(FailureKind::kLeak,
         "the test body returned but strands are still blocked with nothing "
         "left to wake them:\n" +
             blocked +
             "Join every strand you spawn, and stop workers before the body "
             "returns.");
  } else {
    fail(FailureKind::kDeadlock,
         "no strand can run and no timer is pending:\n" + blocked +
             "Look for a cycle of strands each waiting on the next.");
  }
  failure_->strand = "";
}

}  // namespace weft::sim
