// What a strand's thread handle answers: its name, its attributes (the
// strand's own stack), its CPU affinity and scheduling. A strand's handle
// is no pointer to a thread, and libc's functions read through it (a crash
// on a program's first std::thread::native_handle() use). Strands share
// one OS thread, so setting an affinity or a priority has nothing to act
// on and is accepted; reading them gives the OS thread's. A handle that is
// not a strand's goes to libc's function, in a simulation or not.
#include <pthread.h>
#include <sched.h>

#include <string>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

using namespace weft::intercept;
using namespace weft::intercept::internal;

namespace {

// Its own slot: threads.cc, in the same unity unit, has pthread_self's.
decltype(&::pthread_self) real_self_of_os_thread = nullptr;
WEFT_REAL_SLOT(pthread_getname_np);
WEFT_REAL_SLOT(pthread_getattr_np);
WEFT_REAL_SLOT(pthread_setaffinity_np);
WEFT_REAL_SLOT(pthread_getaffinity_np);
WEFT_REAL_SLOT(pthread_setschedparam);
WEFT_REAL_SLOT(pthread_getschedparam);
WEFT_REAL_SLOT(pthread_setschedprio);

// The strand behind `t` in the running simulation, or kNoStrand (then `t`
// is a real thread's handle). `s` is set to the simulation's scheduler.
StrandId strand_behind(pthread_t t, Scheduler*& s) {
  s = strand_scheduler();
  const StrandId id = strand_of(t);
  if (s == nullptr || id == weft::sim::kNoStrand) return weft::sim::kNoStrand;
  return id < World::of(*s).thread_slots() ? id : weft::sim::kNoStrand;
}

// The OS thread every strand runs on.
pthread_t os_thread() {
  return real_of(real_self_of_os_thread, "pthread_self")();
}

}  // namespace

extern "C" {

int pthread_getname_np(pthread_t t, char* name, size_t size) noexcept {
  Scheduler* s = nullptr;
  const StrandId id = strand_behind(t, s);
  if (id == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_getname_np)(t, name, size);
  const std::string& n = s->strand_name(id);
  if (size < n.size() + 1) return ERANGE;
  n.copy(name, n.size());
  name[n.size()] = '\0';
  return 0;
}

int pthread_getattr_np(pthread_t t, pthread_attr_t* attr) noexcept {
  Scheduler* s = nullptr;
  const StrandId id = strand_behind(t, s);
  if (id == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_getattr_np)(t, attr);
  const auto [bottom, size] = s->strand_stack(id);
  pthread_attr_init(attr);
  pthread_attr_setstack(attr, const_cast<void*>(bottom), size);
  pthread_attr_setdetachstate(attr, World::of(*s).thread(id).detached
                                        ? PTHREAD_CREATE_DETACHED
                                        : PTHREAD_CREATE_JOINABLE);
  return 0;
}

int pthread_setaffinity_np(pthread_t t, size_t size,
                           const cpu_set_t* set) noexcept {
  Scheduler* s = nullptr;
  if (strand_behind(t, s) == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_setaffinity_np)(t, size, set);
  return 0;
}

int pthread_getaffinity_np(pthread_t t, size_t size, cpu_set_t* set) noexcept {
  Scheduler* s = nullptr;
  if (strand_behind(t, s) == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_getaffinity_np)(t, size, set);
  return WEFT_REAL(pthread_getaffinity_np)(os_thread(), size, set);
}

int pthread_setschedparam(pthread_t t, int policy,
                          const sched_param* param) noexcept {
  Scheduler* s = nullptr;
  if (strand_behind(t, s) == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_setschedparam)(t, policy, param);
  return 0;
}

int pthread_getschedparam(pthread_t t, int* policy,
                          sched_param* param) noexcept {
  Scheduler* s = nullptr;
  if (strand_behind(t, s) == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_getschedparam)(t, policy, param);
  return WEFT_REAL(pthread_getschedparam)(os_thread(), policy, param);
}

int pthread_setschedprio(pthread_t t, int priority) noexcept {
  Scheduler* s = nullptr;
  if (strand_behind(t, s) == weft::sim::kNoStrand) [[likely]]
    return WEFT_REAL(pthread_setschedprio)(t, priority);
  return 0;
}

}  // extern "C"
