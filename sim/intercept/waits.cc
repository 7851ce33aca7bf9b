// Condition variables, semaphores, barriers and pthread_once, interposed.
// A condition wait is a choice point (kWait) before the enqueue, releases
// the mutex in the same step, may wake spuriously (a value choice, as
// weft::CondVar) and relocks after a choice point; a signal's choice of
// waiter is a value choice. Internal to sim/intercept.
#include <semaphore.h>

#include <mutex>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

using namespace weft::intercept;
using namespace weft::intercept::internal;
using weft::sim::ChoiceKind;

namespace {
WEFT_REAL_SLOT(pthread_cond_wait);
WEFT_REAL_SLOT(pthread_cond_timedwait);
WEFT_REAL_SLOT(pthread_cond_clockwait);
WEFT_REAL_SLOT(pthread_cond_signal);
WEFT_REAL_SLOT(pthread_cond_broadcast);
WEFT_REAL_SLOT(pthread_cond_init);
WEFT_REAL_SLOT(pthread_cond_destroy);
WEFT_REAL_SLOT(sem_wait);
WEFT_REAL_SLOT(sem_trywait);
WEFT_REAL_SLOT(sem_timedwait);
WEFT_REAL_SLOT(sem_clockwait);
WEFT_REAL_SLOT(sem_post);
WEFT_REAL_SLOT(sem_getvalue);
WEFT_REAL_SLOT(sem_init);
WEFT_REAL_SLOT(sem_destroy);
WEFT_REAL_SLOT(pthread_barrier_wait);
WEFT_REAL_SLOT(pthread_barrier_init);
WEFT_REAL_SLOT(pthread_barrier_destroy);
WEFT_REAL_SLOT(pthread_once);

Object& cond_object(Scheduler& s, pthread_cond_t* c) {
  return World::of(s).object(c, Object::Kind::kCond, [c](Object& o) {
    // glibc keeps the clock of pthread_condattr_setclock in __wrefs bit 1.
    o.monotonic = (c->__data.__wrefs & 2) != 0;
  });
}

int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, const Nanos* deadline,
              const char* what, const void* from) {
  Scheduler& s = *strand_scheduler();
  Call call(s, what, from);
  Object& cv = cond_object(s, c);
  Object& mx = mutex_object(s, m);
  if (mx.owner != s.current_strand() && !s.tearing_down())
    misuse(s, std::string("called ") + what + " on " + cv.describe() +
                  " without holding " + mx.describe());
  // The enqueue is visible to signallers: a choice point before it lets a
  // signal land between the caller's last check and its wait.
  s.choice_point(ChoiceKind::kWait,
                 op(ChoiceKind::kWait, &cv, weft::sim::Access::kWrite, &mx));
  const StrandId me = s.current_strand();
  cv.waiters.add(me);
  const std::uint32_t depth = release_mutex_for_wait(s, mx);
  bool notified = true;
  if (deadline == nullptr && s.spurious_wakeup(ChoiceKind::kWait)) {
    cv.waiters.remove(me);
    s.choice_point(ChoiceKind::kWait,
                   op(ChoiceKind::kWait, &cv, weft::sim::Access::kWrite, &mx));
  } else {
    notified = cv.waiters.block_until_woken(
        s, ChoiceKind::kWait, &cv, "be signalled by", caller(s), deadline);
  }
  s.choice_point(ChoiceKind::kLock, op(ChoiceKind::kLock, &mx));
  acquire_mutex(s, mx, nullptr);
  mx.depth = depth;
  return notified ? 0 : ETIMEDOUT;
}

int cond_signal(Scheduler& s, pthread_cond_t* c, bool all, const void* from) {
  Call call(s, all ? "pthread_cond_broadcast" : "pthread_cond_signal", from);
  Object& cv = cond_object(s, c);
  s.choice_point(ChoiceKind::kNotify, op(ChoiceKind::kNotify, &cv), false);
  if (cv.waiters.empty()) return 0;
  if (all) {
    cv.waiters.wake_all(s);
    return 0;
  }
  const auto n = static_cast<std::uint32_t>(cv.waiters.size());
  cv.waiters.wake_at(s, n > 1 ? s.choose_value(ChoiceKind::kNotify, n) : 0);
  return 0;
}

Object& sem_object(Scheduler& s, sem_t* sem) {
  return World::of(s).object(sem, Object::Kind::kSem, [sem](Object& o) {
    int v = 0;
    WEFT_REAL(sem_getvalue)(sem, &v);
    o.count = v < 0 ? 0 : static_cast<std::uint64_t>(v);
  });
}

int sem_acquire(sem_t* sem, bool try_only, const Nanos* deadline,
                const char* what, const void* from) {
  Scheduler& s = *strand_scheduler();
  Call call(s, what, from);
  Object& o = sem_object(s, sem);
  s.choice_point(ChoiceKind::kAcquire, op(ChoiceKind::kAcquire, &o), !try_only);
  while (o.count == 0) {
    if (try_only) {
      call.set_errno(EAGAIN);
      return -1;
    }
    o.waiters.add(s.current_strand());
    if (!o.waiters.block_until_woken(s, ChoiceKind::kAcquire, &o, "acquire",
                                     caller(s), deadline) &&
        o.count == 0 && (deadline != nullptr || s.tearing_down())) {
      call.set_errno(ETIMEDOUT);
      return -1;
    }
  }
  --o.count;
  return 0;
}

}  // namespace

extern "C" {

int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_cond_wait)(c, m);
  return cond_wait(c, m, nullptr, "pthread_cond_wait", WEFT_CALLER);
}

int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                           const timespec* abs) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_cond_timedwait)(c, m, abs);
  const bool mono = cond_object(*s, c).monotonic;
  const Nanos d =
      virtual_deadline(mono ? CLOCK_MONOTONIC : CLOCK_REALTIME, *abs);
  return cond_wait(c, m, &d, "pthread_cond_timedwait", WEFT_CALLER);
}

int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m,
                           clockid_t clock, const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(pthread_cond_clockwait)(c, m, clock, abs);
  const Nanos d = virtual_deadline(clock, *abs);
  return cond_wait(c, m, &d, "pthread_cond_clockwait", WEFT_CALLER);
}

int pthread_cond_signal(pthread_cond_t* c) {
  if (Scheduler* s = strand_scheduler()) [[unlikely]]
    return cond_signal(*s, c, false, WEFT_CALLER);
  return WEFT_REAL(pthread_cond_signal)(c);
}

int pthread_cond_broadcast(pthread_cond_t* c) {
  if (Scheduler* s = strand_scheduler()) [[unlikely]]
    return cond_signal(*s, c, true, WEFT_CALLER);
  return WEFT_REAL(pthread_cond_broadcast)(c);
}

int pthread_cond_init(pthread_cond_t* c, const pthread_condattr_t* a) {
  const int r = WEFT_REAL(pthread_cond_init)(c, a);
  if (Scheduler* s = strand_scheduler()) World::of(*s).forget(c);
  return r;
}

int pthread_cond_destroy(pthread_cond_t* c) {
  if (Scheduler* s = strand_scheduler()) {
    World::of(*s).forget(c);
    return 0;
  }
  return WEFT_REAL(pthread_cond_destroy)(c);
}

int sem_wait(sem_t* sem) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(sem_wait)(sem);
  return sem_acquire(sem, false, nullptr, "sem_wait", WEFT_CALLER);
}

int sem_trywait(sem_t* sem) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(sem_trywait)(sem);
  return sem_acquire(sem, true, nullptr, "sem_trywait", WEFT_CALLER);
}

int sem_timedwait(sem_t* sem, const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(sem_timedwait)(sem, abs);
  const Nanos d = virtual_deadline(CLOCK_REALTIME, *abs);
  return sem_acquire(sem, false, &d, "sem_timedwait", WEFT_CALLER);
}

int sem_clockwait(sem_t* sem, clockid_t clock, const timespec* abs) {
  if (strand_scheduler() == nullptr) [[likely]]
    return WEFT_REAL(sem_clockwait)(sem, clock, abs);
  const Nanos d = virtual_deadline(clock, *abs);
  return sem_acquire(sem, false, &d, "sem_clockwait", WEFT_CALLER);
}

int sem_post(sem_t* sem) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sem_post)(sem);
  Call call(*s, "sem_post", WEFT_CALLER);
  Object& o = sem_object(*s, sem);
  s->choice_point(ChoiceKind::kRelease, op(ChoiceKind::kRelease, &o), false);
  ++o.count;
  o.waiters.wake_all(*s);
  return 0;
}

int sem_getvalue(sem_t* sem, int* value) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sem_getvalue)(sem, value);
  Call call(*s, "sem_getvalue", WEFT_CALLER);
  Object& o = sem_object(*s, sem);
  s->choice_point(ChoiceKind::kAcquire,
                  op(ChoiceKind::kAcquire, &o, weft::sim::Access::kRead));
  *value = static_cast<int>(o.count);
  return 0;
}

int sem_init(sem_t* sem, int pshared, unsigned value) {
  const int r = WEFT_REAL(sem_init)(sem, pshared, value);
  if (Scheduler* s = strand_scheduler()) World::of(*s).forget(sem);
  return r;
}

int sem_destroy(sem_t* sem) {
  if (Scheduler* s = strand_scheduler()) {
    World::of(*s).forget(sem);
    return 0;
  }
  return WEFT_REAL(sem_destroy)(sem);
}

int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t* a,
                         unsigned count) {
  const int r = WEFT_REAL(pthread_barrier_init)(b, a, count);
  if (Scheduler* s = strand_scheduler()) World::of(*s).forget(b);
  return r;
}

int pthread_barrier_destroy(pthread_barrier_t* b) {
  if (Scheduler* s = strand_scheduler()) {
    World::of(*s).forget(b);
    return 0;
  }
  return WEFT_REAL(pthread_barrier_destroy)(b);
}

int pthread_barrier_wait(pthread_barrier_t* b) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_barrier_wait)(b);
  Call call(*s, "pthread_barrier_wait", WEFT_CALLER);
  Object& o = World::of(*s).object(b, Object::Kind::kBarrier, [b](Object& ob) {
    // glibc's barrier: unsigned in, current_round, count, ...
    unsigned count = 0;
    __builtin_memcpy(&count, reinterpret_cast<const char*>(b) + 8,
                     sizeof count);
    ob.limit = count;
  });
  s->choice_point(ChoiceKind::kWait, op(ChoiceKind::kWait, &o));
  if (++o.count >= o.limit) {
    o.count = 0;
    ++o.round;
    o.waiters.wake_all(*s);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  const std::uint64_t round = o.round;
  while (o.round == round) {
    o.waiters.add(s->current_strand());
    if (!o.waiters.block_until_woken(*s, ChoiceKind::kWait, &o, "pass",
                                     caller(*s)))
      break;
  }
  return 0;
}

}  // extern "C"

namespace {

// glibc's bit of a completed pthread_once_t (__PTHREAD_ONCE_DONE).
constexpr pthread_once_t kOnceDone = 2;

// libstdc++'s call_once state of the calling thread (<mutex>), saved and
// put back; nothing with another standard library.
struct OnceCallable {
#if defined(__GLIBCXX__) && defined(_GLIBCXX_HAVE_TLS)
  void* callable = std::__once_callable;
  void (*call)() = std::__once_call;
  void restore() const {
    std::__once_callable = callable;
    std::__once_call = call;
  }
#else
  void restore() const {}
#endif
};

}  // namespace

extern "C" {

int pthread_once(pthread_once_t* once, void (*init)()) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_once)(once, init);
  Call call(*s, "pthread_once", WEFT_CALLER);
  // glibc marks a completed once control with bit 1: done before the run.
  Object& o = World::of(*s).object(
      once, Object::Kind::kOnce,
      [once](Object& ob) { ob.round = (*once & kOnceDone) != 0 ? 2 : 0; });
  // Done here, yet the word is clear: it was freed and the address reused
  // for a new control (std::once_flag starts at 0 with no init call), whose
  // function must run (a std::future's state reused a finished one's
  // address, and its get() waited forever).
  if (o.round == 2 && (*once & kOnceDone) == 0) o.round = 0;
  {
    // libstdc++'s std::call_once (and so std::async and std::future)
    // hands init its callable through thread-local variables, which every
    // strand of this thread shares: another strand's call_once during the
    // switch replaces or clears them, and init would then call another
    // flag's function, or null. They are this strand's again after it.
    const OnceCallable mine;
    s->choice_point(ChoiceKind::kLock, op(ChoiceKind::kLock, &o));
    mine.restore();
  }
  if (o.round == 0) {
    o.round = 1;
    init();
    o.round = 2;
    // As glibc's: the word says done, to this run and to libc's
    // pthread_once after it.
    __atomic_store_n(once, *once | kOnceDone, __ATOMIC_RELEASE);
    o.waiters.wake_all(*s);
    return 0;
  }
  while (o.round != 2) {
    o.waiters.add(s->current_strand());
    if (!o.waiters.block_until_woken(*s, ChoiceKind::kLock, &o,
                                     "wait for the initialiser of", caller(*s)))
      break;
  }
  return 0;
}

}  // extern "C"
