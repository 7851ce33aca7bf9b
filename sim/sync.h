// Synchronisation primitives that mirror the standard ones. Outside a
// simulation each is the std type it wraps (one thread-local check per
// call); inside one every lock, unlock, wait and notify is a choice point,
// a blocked strand is reported by name in deadlocks, and misuse (unlocking
// a mutex one does not hold, relocking one's own) fails the schedule.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <utility>
#include <vector>

#include "sim/clock.h"
#include "sim/flight.h"
#include "sim/internal/uninstrumented.h"
#include "sim/scheduler.h"
#include "sim/source_location.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

// The one waiting block under the simulated primitives: the strands
// waiting on one object, in arrival order, and the loop that blocks until
// the object's condition holds. Waking is not a choice point (the waker's
// operation already had one); which woken strand goes first is the
// strategy's choice when they next run. Each primitive keeps its real
// branch (the std type it wraps) inline in front of the queue, so real
// threads pay one thread-local load and nothing else.
class WaitQueue {
 public:
  // Blocks the running strand until `ready()` holds, re-checking after
  // every wake-up. False when the wait was abandoned at teardown.
  template <class Ready>
  bool block_until(Scheduler& s, Ready ready, ChoiceKind kind,
                   const Waitable* on, const char* op, SourceLocation where) {
    while (!ready()) {
      add(s.current_strand());
      if (!s.block(kind, on, op, where)) return false;
    }
    return true;
  }
  // Blocks the running strand, already added, until a wake removes it;
  // `deadline` (virtual time, optional) ends the wait early. True if a
  // wake removed it.
  bool block_until_woken(Scheduler& s, ChoiceKind kind, const Waitable* on,
                         const char* op, SourceLocation where,
                         const Nanos* deadline = nullptr);

  void add(StrandId id);
  void remove(StrandId id);
  bool contains(StrandId id) const;
  bool empty() const { return ids_.empty(); }
  std::size_t size() const { return ids_.size(); }
  // The waiter at `index`, in order of arrival.
  StrandId at(std::size_t index) const { return ids_[index]; }
  // Wakes every waiter (they retry; the strategy picks who wins).
  void wake_all(Scheduler& s);
  // Removes and wakes the waiter at `index`.
  void wake_at(Scheduler& s, std::size_t index);

 private:
  std::vector<StrandId> ids_;
};

// Gives an object its name in reports: the user's, or "<kind>#<n>" with n
// handed out in order of first use within the run.
class Named {
 public:
  explicit Named(std::string name) : name_(std::move(name)) {}
  std::string label(const char* kind) const;
  // As label(), but hands out no id (the timeline must not renumber the
  // objects reports name): "<kind>" alone for an unnamed object that no
  // report has named yet in this run.
  std::string peek(const char* kind) const;
  // Tells an observer of `s`, if any, that the running strand did `verb`
  // on this object ("lock mutex 'accounts'"), with a value if `value`.
  void note(Scheduler& s, ChoiceKind op, const char* verb, const char* kind,
            SourceLocation where = {},
            const std::int64_t* value = nullptr) const;

 private:
  std::string name_;
  mutable std::uint32_t id_ = 0;
  mutable std::uint64_t run_ = 0;
};

class Mutex final : public Waitable {
 public:
  explicit Mutex(std::string name = {}) : name_(std::move(name)) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Choice point (kLock) before the acquire; blocks while another holds.
  void lock(SourceLocation where = SourceLocation::current());
  // Choice point (kLock) before the attempt.
  bool try_lock(SourceLocation where = SourceLocation::current());
  // Choice point (kUnlock) before the release, never unwinding: it runs
  // in destructors.
  void unlock(SourceLocation where = SourceLocation::current());
  std::string describe() const override;

 private:
  friend class CondVar;
  // Releases without a choice point: CondVar::wait releases and waits as
  // one step, as std::condition_variable does. Its callers have checked
  // that the strand holds it (unlock, CondVar::holds).
  void release(Scheduler& s);

  std::mutex real_;
  flight::ObjectTag tag_;  // recording on real threads (sim/flight.h)
  StrandId owner_ = kNoStrand;
  WaitQueue waiters_;
  Named name_;
};

class CondVar final : public Waitable {
 public:
  explicit CondVar(std::string name = {}) : name_(std::move(name)) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Choice point (kWait) before the enqueue; the release and the enqueue
  // are one step, as in std::condition_variable. May return spuriously:
  // in a simulation that is a choice of the strategy
  // (RunLimits::spurious_wakeups), so loops must re-check.
  void wait(std::unique_lock<Mutex>& lock,
            SourceLocation where = SourceLocation::current());
  template <class Predicate>
  void wait(std::unique_lock<Mutex>& lock, Predicate pred,
            SourceLocation where = SourceLocation::current()) {
    while (!pred()) {
      wait(lock, where);
      if (abandoning()) return;  // torn down inside a NoUnwindScope
    }
  }
  std::cv_status wait_until(std::unique_lock<Mutex>& lock,
                            Clock::time_point deadline,
                            SourceLocation where = SourceLocation::current());
  std::cv_status wait_for(std::unique_lock<Mutex>& lock, Clock::duration d,
                          SourceLocation where = SourceLocation::current()) {
    return wait_until(lock, Clock::now() + d, where);
  }
  // As std::condition_variable's: wait until `pred` holds or the deadline
  // passes; returns pred() at the end.
  template <class Predicate>
  bool wait_until(std::unique_lock<Mutex>& lock, Clock::time_point deadline,
                  Predicate pred,
                  SourceLocation where = SourceLocation::current()) {
    while (!pred()) {
      if (wait_until(lock, deadline, where) == std::cv_status::timeout ||
          abandoning())
        return pred();
    }
    return true;
  }
  template <class Predicate>
  bool wait_for(std::unique_lock<Mutex>& lock, Clock::duration d,
                Predicate pred,
                SourceLocation where = SourceLocation::current()) {
    return wait_until(lock, Clock::now() + d, std::move(pred), where);
  }
  // Choice point (kNotify) before the notify; which waiter notify_one
  // wakes is a value choice.
  void notify_one(SourceLocation where = SourceLocation::current());
  void notify_all(SourceLocation where = SourceLocation::current());
  std::string describe() const override;
  // Adds what `more` returns to this condition variable's description in
  // deadlock reports (a component's own account of what its waiters are
  // waiting for). Called only when a report is made.
  void set_describer(std::function<std::string()> more) {
    more_ = std::move(more);
  }

 private:
  // Logs a real wait's return (sim/flight.h).
  void recorded_return(Mutex& m, bool timed_out);
  // In a replay whose recording has this wait next: the wait as recorded
  // (whether it timed out); nullopt otherwise.
  std::optional<bool> replayed_wait(Scheduler& s, Mutex& m,
                                    SourceLocation where);
  // False, and the schedule failed, when the strand waits without holding
  // the lock's mutex (std::condition_variable's undefined behaviour).
  bool holds(Scheduler& s, const std::unique_lock<Mutex>& lock,
             SourceLocation where) const;
  std::function<std::string()> more_;
  std::condition_variable real_;
  flight::ObjectTag tag_;
  WaitQueue waiters_;
  Named name_;
};

class Semaphore final : public Waitable {
 public:
  explicit Semaphore(std::ptrdiff_t initial, std::string name = {})
      : real_(initial), count_(initial), name_(std::move(name)) {}
  // Choice point (kAcquire) before the attempt; acquire blocks at zero.
  void acquire(SourceLocation where = SourceLocation::current());
  bool try_acquire();
  // Choice point (kRelease) before the count grows, never unwinding.
  void release(std::ptrdiff_t n = 1);
  std::string describe() const override;

 private:
  std::counting_semaphore<> real_;
  flight::ObjectTag tag_;
  std::ptrdiff_t count_;
  WaitQueue waiters_;
  Named name_;
};

class Latch final : public Waitable {
 public:
  explicit Latch(std::ptrdiff_t expected, std::string name = {})
      : real_(expected), count_(expected), name_(std::move(name)) {}
  // Choice point (kRelease) before the count drops, never unwinding.
  void count_down(std::ptrdiff_t n = 1);
  // Choice point (kWait) before the count is read; wait blocks until 0.
  bool try_wait() const;
  void wait(SourceLocation where = SourceLocation::current());
  void arrive_and_wait(std::ptrdiff_t n = 1,
                       SourceLocation where = SourceLocation::current());
  std::string describe() const override;

 private:
  std::latch real_;
  flight::ObjectTag tag_;
  std::ptrdiff_t count_;
  WaitQueue waiters_;
  Named name_;
};

WEFT_HEADER_CODE_END
}  // namespace weft::sim
