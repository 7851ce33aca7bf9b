// Mutexes, spin locks and rwlocks, interposed. On a strand: a choice point
// (kLock) before every acquire, one (kUnlock) before every release, the
// waiting on the object's WaitQueue; the real object is never touched, so
// a run starts with every lock free whatever earlier runs left.
#include <algorithm>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

namespace weft::intercept::internal {
namespace {

using sim::ChoiceKind;
using sim::kNoStrand;

// glibc keeps the mutex type in the low bits of __kind (set by the
// initialisers and pthread_mutex_init); adaptive counts as normal.
int mutex_type(const pthread_mutex_t* m) {
  const int kind = m->__data.__kind & 3;
  return kind == PTHREAD_MUTEX_RECURSIVE || kind == PTHREAD_MUTEX_ERRORCHECK
             ? kind
             : PTHREAD_MUTEX_NORMAL;
}

// Blocks until `ready` holds or `deadline` (virtual, optional) passes.
template <class Ready>
bool wait_for(Scheduler& s, Object& o, Ready ready, const char* what,
              const Nanos* deadline) {
  while (!ready()) {
    o.waiters.add(s.current_strand());
    if (!o.waiters.block_until_woken(s, ChoiceKind::kLock, &o, what, caller(s),
                                     deadline)) {
      if (deadline != nullptr && s.now() >= *deadline && !ready()) return false;
      if (s.tearing_down()) return false;
    }
  }
  return true;
}

}  // namespace

Object& mutex_object(Scheduler& s, pthread_mutex_t* m) {
  Object& o = World::of(s).object(m, Object::Kind::kMutex,
                                  [m](Object& ob) { ob.type = mutex_type(m); });
  // Free, it may be a new mutex at a freed one's address (std::mutex and
  // std::recursive_mutex are made with no init call): its type is the
  // memory's (a recursive mutex where a normal one was had its relock
  // reported as a misuse).
  if (o.owner == kNoStrand && o.waiters.empty()) o.type = mutex_type(m);
  return o;
}

int acquire_mutex(Scheduler& s, Object& m, const Nanos* deadline) {
  const StrandId me = s.current_strand();
  if (m.owner == me) {
    if (m.type == PTHREAD_MUTEX_RECURSIVE) {
      ++m.depth;
      return 0;
    }
    if (m.type == PTHREAD_MUTEX_ERRORCHECK) return EDEADLK;
    if (!s.tearing_down())
      misuse(s, "locked " + m.describe() +
                    " again while holding it: a normal mutex deadlocks "
                    "(std::mutex is not recursive)");
  }
  if (!wait_for(
          s, m, [&m] { return m.owner == kNoStrand; }, "lock", deadline))
    return ETIMEDOUT;
  m.owner = me;
  m.depth = 1;
  return 0;
}

std::uint32_t release_mutex_for_wait(Scheduler& s, Object& m) {
  const std::uint32_t depth = m.depth;
  m.owner = kNoStrand;
  m.depth = 0;
  m.waiters.wake_all(s);
  return depth;
}

namespace {

int lock_mutex(pthread_mutex_t* m, const Nanos* deadline, const char* what,
               const void* from) {
  Scheduler& s = *strand_scheduler();
  Call call(s, what, from);
  Object& o = mutex_object(s, m);
  s.choice_point(ChoiceKind::kLock, op(ChoiceKind::kLock, &o));
  return acquire_mutex(s, o, deadline);
}

}  // namespace
}  // namespace weft::intercept::internal

using namespace weft::intercept;
using namespace weft::intercept::internal;

namespace {
WEFT_REAL_SLOT(pthread_mutex_lock);
WEFT_REAL_SLOT(pthread_mutex_trylock);
WEFT_REAL_SLOT(pthread_mutex_timedlock);
WEFT_REAL_SLOT(pthread_mutex_clocklock);
WEFT_REAL_SLOT(pthread_mutex_unlock);
WEFT_REAL_SLOT(pthread_mutex_init);
WEFT_REAL_SLOT(pthread_mutex_destroy);
WEFT_REAL_SLOT(pthread_spin_lock);
WEFT_REAL_SLOT(pthread_spin_trylock);
WEFT_REAL_SLOT(pthread_spin_unlock);
WEFT_REAL_SLOT(pthread_rwlock_rdlock);
WEFT_REAL_SLOT(pthread_rwlock_tryrdlock);
WEFT_REAL_SLOT(pthread_rwlock_timedrdlock);
WEFT_REAL_SLOT(pthread_rwlock_wrlock);
WEFT_REAL_SLOT(pthread_rwlock_trywrlock);
WEFT_REAL_SLOT(pthread_rwlock_timedwrlock);
WEFT_REAL_SLOT(pthread_rwlock_clockrdlock);
WEFT_REAL_SLOT(pthread_rwlock_clockwrlock);
WEFT_REAL_SLOT(pthread_rwlock_unlock);
WEFT_REAL_SLOT(pthread_rwlock_init);
WEFT_REAL_SLOT(pthread_rwlock_destroy);

int unlock_mutex(Scheduler& s, pthread_mutex_t* m, const void* from) {
  Call call(s, "pthread_mutex_unlock", from);
  Object& o = mutex_object(s, m);
  // Before the release: the critical section's last writes are visible
  // to racy readers while the mutex is still held.
  s.choice_point(weft::sim::ChoiceKind::kUnlock,
                 op(weft::sim::ChoiceKind::kUnlock, &o), /*may_unwind=*/false);
  if (o.owner != s.current_strand()) {
    if (o.type != PTHREAD_MUTEX_NORMAL) return EPERM;
    if (!s.tearing_down())
      s.fail(weft::sim::FailureKind::kAssertion,
             "strand '" + s.strand_name(s.current_strand()) + "' unlocked " +
                 o.describe() + ", which it does not hold, at " +
                 caller(s).to_string());
    return 0;  // no throw: unlock runs in destructors
  }
  if (--o.depth > 0) return 0;
  release_mutex_for_wait(s, o);
  return 0;
}

}  // namespace

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* m) {
  if (strand_scheduler() != nullptr) [[unlikely]]
    return lock_mutex(m, nullptr, "pthread_mutex_lock", WEFT_CALLER);
  return WEFT_REAL(pthread_mutex_lock)(m);
}

int pthread_mutex_trylock(pthread_mutex_t* m) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_mutex_trylock)(m);
  Call call(*s, "pthread_mutex_trylock", WEFT_CALLER);
  Object& o = mutex_object(*s, m);
  s->choice_point(weft::sim::ChoiceKind::kLock,
                  op(weft::sim::ChoiceKind::kLock, &o), /*may_unwind=*/false);
  if (o.owner == weft::sim::kNoStrand) {
    o.owner = s->current_strand();
    o.depth = 1;
    return 0;
  }
  if (o.owner == s->current_strand() && o.type == PTHREAD_MUTEX_RECURSIVE) {
    ++o.depth;
    return 0;
  }
  return EBUSY;
}

int pthread_mutex_timedlock(pthread_mutex_t* m, const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_mutex_timedlock)(m, abs);
  const Nanos deadline = virtual_deadline(CLOCK_REALTIME, *abs);
  return lock_mutex(m, &deadline, "pthread_mutex_timedlock", WEFT_CALLER);
}

int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                            const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_mutex_clocklock)(m, clock, abs);
  const Nanos deadline = virtual_deadline(clock, *abs);
  return lock_mutex(m, &deadline, "pthread_mutex_clocklock", WEFT_CALLER);
}

int pthread_mutex_unlock(pthread_mutex_t* m) {
  if (Scheduler* s = strand_scheduler()) [[unlikely]]
    return unlock_mutex(*s, m, WEFT_CALLER);
  return WEFT_REAL(pthread_mutex_unlock)(m);
}

int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) {
  const int r = WEFT_REAL(pthread_mutex_init)(m, attr);
  if (Scheduler* s = strand_scheduler()) World::of(*s).forget(m);
  return r;
}

int pthread_mutex_destroy(pthread_mutex_t* m) {
  if (Scheduler* s = strand_scheduler()) {
    World::of(*s).forget(m);
    return 0;
  }
  return WEFT_REAL(pthread_mutex_destroy)(m);
}

// Spin locks are mutexes in the simulation: a strand spinning on one
// would never let the holder run.
int pthread_spin_lock(pthread_spinlock_t* l) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_spin_lock)(l);
  Call call(*s, "pthread_spin_lock", WEFT_CALLER);
  Object& o = World::of(*s).object(const_cast<int*>(l), Object::Kind::kSpin,
                                   [](Object&) {});
  s->choice_point(weft::sim::ChoiceKind::kLock,
                  op(weft::sim::ChoiceKind::kLock, &o));
  return acquire_mutex(*s, o, nullptr);
}

int pthread_spin_trylock(pthread_spinlock_t* l) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_spin_trylock)(l);
  Call call(*s, "pthread_spin_trylock", WEFT_CALLER);
  Object& o = World::of(*s).object(const_cast<int*>(l), Object::Kind::kSpin,
                                   [](Object&) {});
  s->choice_point(weft::sim::ChoiceKind::kLock,
                  op(weft::sim::ChoiceKind::kLock, &o), false);
  if (o.owner != weft::sim::kNoStrand) return EBUSY;
  o.owner = s->current_strand();
  o.depth = 1;
  return 0;
}

int pthread_spin_unlock(pthread_spinlock_t* l) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_spin_unlock)(l);
  Call call(*s, "pthread_spin_unlock", WEFT_CALLER);
  Object& o = World::of(*s).object(const_cast<int*>(l), Object::Kind::kSpin,
                                   [](Object&) {});
  s->choice_point(weft::sim::ChoiceKind::kUnlock,
                  op(weft::sim::ChoiceKind::kUnlock, &o), false);
  if (o.owner == s->current_strand()) release_mutex_for_wait(*s, o);
  return 0;
}

}  // extern "C"

// --- rwlocks: reader-preferring, as glibc's default ----------------------

namespace {

Object& rwlock(Scheduler& s, pthread_rwlock_t* l) {
  return World::of(s).object(l, Object::Kind::kRwlock, [](Object&) {});
}

int rw_acquire(pthread_rwlock_t* l, bool write, bool try_only,
               const Nanos* deadline, const char* what, const void* from) {
  Scheduler& s = *strand_scheduler();
  Call call(s, what, from);
  Object& o = rwlock(s, l);
  s.choice_point(weft::sim::ChoiceKind::kLock,
                 op(weft::sim::ChoiceKind::kLock, &o), !try_only);
  const StrandId me = s.current_strand();
  // glibc knows its writer, so a writer's relock is EDEADLK; it does not
  // know its readers, so a reader that asks to write waits for itself
  // forever: here too, and the run reports the deadlock.
  if (o.owner == me) return EDEADLK;
  auto free = [&o, write] {
    return o.owner == weft::sim::kNoStrand && (!write || o.readers.empty());
  };
  if (try_only && !free()) return EBUSY;
  while (!free()) {
    o.waiters.add(me);
    if (!o.waiters.block_until_woken(s, weft::sim::ChoiceKind::kLock, &o,
                                     write ? "write-lock" : "read-lock",
                                     caller(s), deadline) &&
        !free() && (deadline != nullptr || s.tearing_down()))
      return ETIMEDOUT;
  }
  if (write)
    o.owner = me;
  else
    o.readers.push_back(me);
  return 0;
}

}  // namespace

extern "C" {

int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_rdlock)(l);
  return rw_acquire(l, false, false, nullptr, "pthread_rwlock_rdlock",
                    WEFT_CALLER);
}
int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_tryrdlock)(l);
  return rw_acquire(l, false, true, nullptr, "pthread_rwlock_tryrdlock",
                    WEFT_CALLER);
}
int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_timedrdlock)(l, abs);
  const Nanos d = virtual_deadline(CLOCK_REALTIME, *abs);
  return rw_acquire(l, false, false, &d, "pthread_rwlock_timedrdlock",
                    WEFT_CALLER);
}
int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t clock,
                               const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_clockrdlock)(l, clock, abs);
  const Nanos d = virtual_deadline(clock, *abs);
  return rw_acquire(l, false, false, &d, "pthread_rwlock_clockrdlock",
                    WEFT_CALLER);
}
int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_wrlock)(l);
  return rw_acquire(l, true, false, nullptr, "pthread_rwlock_wrlock",
                    WEFT_CALLER);
}
int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_trywrlock)(l);
  return rw_acquire(l, true, true, nullptr, "pthread_rwlock_trywrlock",
                    WEFT_CALLER);
}
int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_timedwrlock)(l, abs);
  const Nanos d = virtual_deadline(CLOCK_REALTIME, *abs);
  return rw_acquire(l, true, false, &d, "pthread_rwlock_timedwrlock",
                    WEFT_CALLER);
}
int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t clock,
                               const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_clockwrlock)(l, clock, abs);
  const Nanos d = virtual_deadline(clock, *abs);
  return rw_acquire(l, true, false, &d, "pthread_rwlock_clockwrlock",
                    WEFT_CALLER);
}

int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_rwlock_unlock)(l);
  Call call(*s, "pthread_rwlock_unlock", WEFT_CALLER);
  Object& o = rwlock(*s, l);
  s->choice_point(weft::sim::ChoiceKind::kUnlock,
                  op(weft::sim::ChoiceKind::kUnlock, &o), false);
  const StrandId me = s->current_strand();
  if (o.owner == me) {
    o.owner = weft::sim::kNoStrand;
  } else if (auto it = std::find(o.readers.begin(), o.readers.end(), me);
             it != o.readers.end()) {
    o.readers.erase(it);
  } else {
    // Undefined, and in glibc a silent corruption of the lock's counts.
    if (!s->tearing_down())
      s->fail(weft::sim::FailureKind::kAssertion,
              "strand '" + s->strand_name(me) + "' unlocked " + o.describe() +
                  ", which it does not hold, at " + caller(*s).to_string());
    return EPERM;
  }
  o.waiters.wake_all(*s);
  return 0;
}

int pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t* a) {
  const int r = WEFT_REAL(pthread_rwlock_init)(l, a);
  if (Scheduler* s = strand_scheduler()) World::of(*s).forget(l);
  return r;
}

int pthread_rwlock_destroy(pthread_rwlock_t* l) {
  if (Scheduler* s = strand_scheduler()) {
    World::of(*s).forget(l);
    return 0;
  }
  return WEFT_REAL(pthread_rwlock_destroy)(l);
}

}  // extern "C"
