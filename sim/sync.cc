#include "sim/sync.h"

#include <algorithm>

#include "sim/check.h"

namespace weft::sim {
namespace {
// The pending operation of a primitive's choice point (sim/choice.h).
PendingOp pending_op(ChoiceKind kind, const void* object,
                     Access access = Access::kWrite,
                     const void* object2 = nullptr) {
  return PendingOp{kind, access, object, object2, kNoStrand};
}

// Tells a replay (sim/flight.h) that the running strand completed `op`.
std::uint64_t replayed(Scheduler& s, flight::Op op, const void* object,
                       std::uint64_t value = 0) {
  flight::ReplayHooks* h = s.replay_hooks();
  return h == nullptr ? value : h->on_op(op, object, value);
}

// In a replay whose recording has a failed try_lock or try_acquire next for
// the running strand: the attempt fails as recorded (as a real one may
// fail spuriously), whatever the object's state.
bool replayed_failure(Scheduler& s) {
  flight::ReplayHooks* h = s.replay_hooks();
  return h != nullptr && h->next_is(flight::Op::kTryFail);
}
}  // namespace

void WaitQueue::add(StrandId id) {
  if (!contains(id)) ids_.push_back(id);
}

void WaitQueue::remove(StrandId id) {
  auto it = std::find(ids_.begin(), ids_.end(), id);
  if (it != ids_.end()) ids_.erase(it);
}

bool WaitQueue::contains(StrandId id) const {
  return std::find(ids_.begin(), ids_.end(), id) != ids_.end();
}

void WaitQueue::wake_all(Scheduler& s) {
  for (StrandId id : ids_) s.wake(id);
  ids_.clear();
}

void WaitQueue::wake_at(Scheduler& s, std::size_t index) {
  const StrandId id = ids_[index];
  ids_.erase(ids_.begin() + static_cast<std::ptrdiff_t>(index));
  s.wake(id);
}

bool WaitQueue::block_until_woken(Scheduler& s, ChoiceKind kind,
                                  const Waitable* on, const char* op,
                                  SourceLocation where, const Nanos* deadline) {
  const StrandId me = s.current_strand();
  while (contains(me)) {
    const bool woken = deadline == nullptr
                           ? s.block(kind, on, op, where)
                           : s.block_until(kind, on, op, where, *deadline);
    if (!woken) break;  // abandoned, or the deadline passed
  }
  const bool removed = !contains(me);
  remove(me);
  return removed;
}

std::string Named::label(const char* kind) const {
  if (!name_.empty()) return std::string(kind) + " '" + name_ + "'";
  if (const Scheduler* s = Scheduler::current();
      s != nullptr && s->naming_quietly())
    return peek(kind);
  if (Scheduler* s = Scheduler::current();
      s != nullptr && run_ != s->run_id()) {
    run_ = s->run_id();
    id_ = s->next_object_id();
  }
  return std::string(kind) + "#" + std::to_string(id_);
}

std::string Named::peek(const char* kind) const {
  if (!name_.empty()) return std::string(kind) + " '" + name_ + "'";
  const Scheduler* s = Scheduler::current();
  if (id_ != 0 && s != nullptr && run_ == s->run_id())
    return std::string(kind) + "#" + std::to_string(id_);
  return kind;
}

void Named::note(Scheduler& s, ChoiceKind op, const char* verb,
                 const char* kind, SourceLocation where,
                 const std::int64_t* value) const {
  s.note_op([&] {
    OpNote n;
    n.kind = op;
    n.what = std::string(verb) + " " + peek(kind);
    n.where = where;
    if (value != nullptr) {
      n.has_value = n.is_signed = true;
      n.value = static_cast<std::uint64_t>(*value);
    }
    return n;
  });
}

// --- Mutex -----------------------------------------------------------------

void Mutex::lock(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.lock();
    if (flight::on()) [[unlikely]]
      tag_.exclusive_write(flight::Op::kLock);
    return;
  }
  s->choice_point(ChoiceKind::kLock, pending_op(ChoiceKind::kLock, this));
  const StrandId me = s->current_strand();
  if (owner_ == me && !s->tearing_down()) {
    s->fail(FailureKind::kAssertion,
            "strand '" + s->strand_name(me) + "' locked " +
                name_.label("mutex") +
                " again while holding it (std::mutex is not recursive)",
            where);
    throw StrandAborted{};
  }
  if (!waiters_.block_until(
          *s, [this] { return owner_ == kNoStrand; }, ChoiceKind::kLock, this,
          "lock", where))
    return;
  owner_ = me;
  name_.note(*s, ChoiceKind::kLock, "lock", "mutex", where);
  replayed(*s, flight::Op::kLock, this);
}

bool Mutex::try_lock(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    if (!real_.try_lock()) {
      if (flight::on()) [[unlikely]]
        tag_.read(flight::Op::kTryFail, [] { return 0; });
      return false;
    }
    if (flight::on()) [[unlikely]]
      tag_.exclusive_write(flight::Op::kLock);
    return true;
  }
  s->choice_point(ChoiceKind::kLock, pending_op(ChoiceKind::kLock, this));
  const std::int64_t got = owner_ == kNoStrand && !replayed_failure(*s);
  name_.note(*s, ChoiceKind::kLock, "try_lock", "mutex", where, &got);
  if (got == 0) {
    replayed(*s, flight::Op::kTryFail, this);
    return false;
  }
  owner_ = s->current_strand();
  replayed(*s, flight::Op::kLock, this);
  return true;
}

void Mutex::release(Scheduler& s) {
  owner_ = kNoStrand;
  waiters_.wake_all(s);
}

void Mutex::unlock(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.unlock();
    return;
  }
  // The choice point comes before the release: until then the critical
  // section's last writes are visible to racy readers while the mutex is
  // still held, an interleaving real threads reach.
  s->choice_point(ChoiceKind::kUnlock, pending_op(ChoiceKind::kUnlock, this),
                  /*may_unwind=*/false);
  // Not holding it fails the run without a throw (unlock runs in
  // destructors): the run ends at the next choice point.
  const StrandId me = s->current_strand();
  if (owner_ == me || s->tearing_down())
    release(*s);
  else
    s->fail(FailureKind::kAssertion, "strand '" + s->strand_name(me) +
                                         "' unlocked " + name_.label("mutex") +
                                         ", which it does not hold, at " +
                                         where.to_string());
  name_.note(*s, ChoiceKind::kUnlock, "unlock", "mutex", where);
}

std::string Mutex::describe() const {
  std::string d = name_.label("mutex");
  Scheduler* s = Scheduler::current();
  if (s != nullptr && owner_ != kNoStrand)
    d += " held by strand '" + s->strand_name(owner_) + "'";
  return d;
}

// --- CondVar ---------------------------------------------------------------

void CondVar::wait(std::unique_lock<Mutex>& lock, SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s != nullptr && !holds(*s, lock, where)) return;
  Mutex& m = *lock.mutex();
  if (s == nullptr) {
    std::unique_lock<std::mutex> inner(m.real_, std::adopt_lock);
    real_.wait(inner);
    inner.release();
    if (flight::on()) [[unlikely]]
      recorded_return(m, false);
    return;
  }
  if (replayed_wait(*s, m, where)) return;
  // The enqueue is visible to notifiers: a choice point before it lets a
  // notify land between the caller's last check and the wait (a lost
  // wake-up when the notifier does not hold the mutex).
  s->choice_point(ChoiceKind::kWait,
                  pending_op(ChoiceKind::kWait, this, Access::kWrite, &m));
  const StrandId me = s->current_strand();
  waiters_.add(me);
  m.release(*s);
  if (s->spurious_wakeup(ChoiceKind::kWait)) {
    waiters_.remove(me);
    name_.note(*s, ChoiceKind::kWait, "woken spuriously from", "condvar",
               where);
    s->choice_point(ChoiceKind::kWait,
                    pending_op(ChoiceKind::kWait, this, Access::kWrite, &m));
  } else {
    waiters_.block_until_woken(*s, ChoiceKind::kWait, this, "be notified by",
                               where);
  }
  m.lock(where);
}

std::cv_status CondVar::wait_until(std::unique_lock<Mutex>& lock,
                                   Clock::time_point deadline,
                                   SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s != nullptr && !holds(*s, lock, where))
    return std::cv_status::no_timeout;
  Mutex& m = *lock.mutex();
  if (s == nullptr) {
    std::unique_lock<std::mutex> inner(m.real_, std::adopt_lock);
    const auto real_deadline = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            deadline.time_since_epoch()));
    const auto st = real_.wait_until(inner, real_deadline);
    inner.release();
    if (flight::on()) [[unlikely]]
      recorded_return(m, st == std::cv_status::timeout);
    return st;
  }
  if (std::optional<bool> timed_out = replayed_wait(*s, m, where))
    return *timed_out ? std::cv_status::timeout : std::cv_status::no_timeout;
  // The enqueue is visible to notifiers: a choice point before it lets a
  // notify land between the caller's last check and the wait (a lost
  // wake-up when the notifier does not hold the mutex).
  s->choice_point(ChoiceKind::kWait,
                  pending_op(ChoiceKind::kWait, this, Access::kWrite, &m));
  const StrandId me = s->current_strand();
  waiters_.add(me);
  m.release(*s);
  const Nanos until = deadline.time_since_epoch();
  const bool notified = waiters_.block_until_woken(
      *s, ChoiceKind::kWait, this, "be notified by", where, &until);
  m.lock(where);
  return notified ? std::cv_status::no_timeout : std::cv_status::timeout;
}

void CondVar::notify_one(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.notify_one();
    return;
  }
  s->choice_point(ChoiceKind::kNotify, pending_op(ChoiceKind::kNotify, this));
  const auto waiting = static_cast<std::int64_t>(waiters_.size());
  name_.note(*s, ChoiceKind::kNotify, "notify_one", "condvar", where, &waiting);
  if (waiters_.empty()) return;
  // Which waiter std::condition_variable wakes is unspecified: a choice.
  const auto n = static_cast<std::uint32_t>(waiters_.size());
  waiters_.wake_at(*s, s->choose_value(ChoiceKind::kNotify, n));
}

void CondVar::notify_all(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.notify_all();
    return;
  }
  s->choice_point(ChoiceKind::kNotify, pending_op(ChoiceKind::kNotify, this));
  const auto waiting = static_cast<std::int64_t>(waiters_.size());
  name_.note(*s, ChoiceKind::kNotify, "notify_all", "condvar", where, &waiting);
  waiters_.wake_all(*s);
}

void CondVar::recorded_return(Mutex& m, bool timed_out) {
  flight::record(flight::Op::kCvWait, tag_.id(), 0, timed_out ? 1 : 0);
  // The wait took the mutex again inside std::condition_variable.
  m.tag_.exclusive_write(flight::Op::kLock);
}

bool CondVar::holds(Scheduler& s, const std::unique_lock<Mutex>& lock,
                    SourceLocation where) const {
  const Mutex* m = lock.mutex();
  if ((m != nullptr && m->owner_ == s.current_strand()) || s.tearing_down())
    return true;
  s.fail(FailureKind::kAssertion,
         "strand '" + s.strand_name(s.current_strand()) + "' waited on " +
             name_.label("condvar") +
             (m == nullptr ? std::string(" with a lock that has no mutex")
                           : " with " + m->name_.label("mutex") +
                                 ", which it does not hold") +
             ", at " + where.to_string());
  return false;
}

std::optional<bool> CondVar::replayed_wait(Scheduler& s, Mutex& m,
                                           SourceLocation where) {
  flight::ReplayHooks* h = s.replay_hooks();
  if (h == nullptr || !h->next_is(flight::Op::kCvWait)) return std::nullopt;
  // As recorded: the wait returns, and takes the mutex again when the
  // recording says it did (the replay holds the lock back until then).
  s.choice_point(ChoiceKind::kWait,
                 pending_op(ChoiceKind::kWait, this, Access::kWrite, &m));
  m.release(s);
  const bool timed_out = h->on_op(flight::Op::kCvWait, this, 0) == 1;
  m.lock(where);
  return timed_out;
}

std::string CondVar::describe() const {
  std::string d = name_.label("condvar");
  if (more_) d += " (" + more_() + ")";
  return d;
}

// --- Semaphore ---------------------------------------------------------------

void Semaphore::acquire(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.acquire();
    if (flight::on()) [[unlikely]]
      tag_.write(flight::Op::kAcquire, [] { return 0; });
    return;
  }
  s->choice_point(ChoiceKind::kAcquire, pending_op(ChoiceKind::kAcquire, this));
  if (!waiters_.block_until(
          *s, [this] { return count_ > 0; }, ChoiceKind::kAcquire, this,
          "acquire", where))
    return;
  --count_;
  const auto left = static_cast<std::int64_t>(count_);
  name_.note(*s, ChoiceKind::kAcquire, "acquire", "semaphore", where, &left);
  replayed(*s, flight::Op::kAcquire, this);
}

bool Semaphore::try_acquire() {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    if (!real_.try_acquire()) {
      if (flight::on()) [[unlikely]]
        tag_.read(flight::Op::kTryFail, [] { return 0; });
      return false;
    }
    if (flight::on()) [[unlikely]]
      tag_.write(flight::Op::kAcquire, [] { return 0; });
    return true;
  }
  s->choice_point(ChoiceKind::kAcquire, pending_op(ChoiceKind::kAcquire, this));
  const std::int64_t got = count_ > 0 && !replayed_failure(*s);
  name_.note(*s, ChoiceKind::kAcquire, "try_acquire", "semaphore", {}, &got);
  if (got == 0) {
    replayed(*s, flight::Op::kTryFail, this);
    return false;
  }
  --count_;
  replayed(*s, flight::Op::kAcquire, this);
  return true;
}

void Semaphore::release(std::ptrdiff_t n) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    if (flight::on()) [[unlikely]]
      tag_.write(flight::Op::kRelease, [&] {
        real_.release(n);
        return 0;
      });
    else
      real_.release(n);
    return;
  }
  s->choice_point(ChoiceKind::kRelease, pending_op(ChoiceKind::kRelease, this),
                  /*may_unwind=*/false);
  count_ += n;
  const auto now = static_cast<std::int64_t>(count_);
  name_.note(*s, ChoiceKind::kRelease, "release", "semaphore", {}, &now);
  waiters_.wake_all(*s);
  replayed(*s, flight::Op::kRelease, this);
}

std::string Semaphore::describe() const {
  return name_.label("semaphore") + " (count " + std::to_string(count_) + ")";
}

// --- Latch -------------------------------------------------------------------

void Latch::count_down(std::ptrdiff_t n) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    if (flight::on()) [[unlikely]]
      tag_.write(flight::Op::kRelease, [&] {
        real_.count_down(n);
        return 0;
      });
    else
      real_.count_down(n);
    return;
  }
  s->choice_point(ChoiceKind::kRelease, pending_op(ChoiceKind::kRelease, this),
                  /*may_unwind=*/false);
  count_ = std::max<std::ptrdiff_t>(0, count_ - n);
  const auto left = static_cast<std::int64_t>(count_);
  name_.note(*s, ChoiceKind::kRelease, "count_down", "latch", {}, &left);
  if (count_ == 0) waiters_.wake_all(*s);
  replayed(*s, flight::Op::kRelease, this);
}

bool Latch::try_wait() const {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    if (flight::on()) [[unlikely]]
      return tag_.read(flight::Op::kLatchWait,
                       [&] { return real_.try_wait(); });
    return real_.try_wait();
  }
  // A read of the count: others' count-downs may fall right before it.
  s->choice_point(ChoiceKind::kWait,
                  pending_op(ChoiceKind::kWait, this, Access::kRead));
  replayed(*s, flight::Op::kLatchWait, this);
  return count_ == 0;
}

void Latch::wait(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.wait();
    if (flight::on()) [[unlikely]]
      tag_.read(flight::Op::kLatchWait, [] { return 0; });
    return;
  }
  s->choice_point(ChoiceKind::kWait,
                  pending_op(ChoiceKind::kWait, this, Access::kRead));
  const bool passed = waiters_.block_until(
      *s, [this] { return count_ == 0; }, ChoiceKind::kWait, this, "pass",
      where);
  name_.note(*s, ChoiceKind::kWait, "passed", "latch", where);
  if (passed) replayed(*s, flight::Op::kLatchWait, this);
}

void Latch::arrive_and_wait(std::ptrdiff_t n, SourceLocation where) {
  count_down(n);
  wait(where);
}

std::string Latch::describe() const {
  return name_.label("latch") + " (" + std::to_string(count_) +
         " arrivals missing)";
}

}  // namespace weft::sim
