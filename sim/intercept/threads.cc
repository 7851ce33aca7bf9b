// Threads, interposed: pthread_create on a strand starts a strand, join is
// the scheduler's join (kJoin), pthread_exit unwinds the strand, and
// pthread_self is a handle made from the strand id. Calls weft cannot
// simulate (fork, exec, cancelling or signalling a thread) are reported.
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define WEFT_HAS_SINGLE_THREADED 1
#endif

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

namespace weft::intercept {
namespace {

using internal::handle_of;
using internal::strand_of;
using internal::World;

// Thrown by pthread_exit on a strand; caught where the strand started.
struct ThreadExit {
  void* result;
};

}  // namespace

int create_thread(sim::Scheduler& s, pthread_t* thread, void* (*fn)(void*),
                  void* arg, bool detached) {
  World& w = World::of(s);
#ifdef WEFT_HAS_SINGLE_THREADED
  // glibc clears this flag in its first pthread_create, and libstdc++ reads
  // it to leave out work only another thread needs: std::stop_token's
  // requester skips releasing a callback's waiter while it reads true. A
  // strand is another thread to the program, though no OS thread is made.
  __libc_single_threaded = 0;
#endif
  const std::string name = "thread-" + std::to_string(w.next_thread_number());
  sim::Scheduler* sched = &s;
  const auto body = [sched, fn, arg] {
    void* result = nullptr;
    try {
      result = fn(arg);
    } catch (const ThreadExit& e) {
      result = e.result;
    }
    internal::run_key_destructors(*sched);
    World::of(*sched).thread(sched->current_strand()).result = result;
  };
  // Before the spawn's choice point, where the thread may start: glibc too
  // stores the handle first, and a thread that detaches or names itself
  // at once must find itself a thread.
  s.spawn(name, body, [&w, thread, detached](sim::StrandId id) {
    internal::Thread& t = w.thread(id);
    t.is_thread = true;
    t.detached = detached;
    *thread = handle_of(id);
  });
  return 0;
}

int run_main_thread(sim::Scheduler& s, const std::function<int()>& main) {
  try {
    return main();
  } catch (const ThreadExit&) {
  }
  internal::run_key_destructors(s);
  // The threads still running keep the process alive; those they start
  // meanwhile too (thread_slots() grows as they are created).
  World& w = World::of(s);
  for (sim::StrandId id = 0; id < w.thread_slots(); ++id)
    if (w.thread(id).is_thread && id != s.current_strand()) {
      const sim::NoUnwindScope no_unwind;
      s.join(id, {});
    }
  return 0;
}

}  // namespace weft::intercept

using namespace weft::intercept;
using namespace weft::intercept::internal;

namespace {
WEFT_REAL_SLOT(pthread_create);
WEFT_REAL_SLOT(pthread_join);
WEFT_REAL_SLOT(pthread_tryjoin_np);
WEFT_REAL_SLOT(pthread_timedjoin_np);
WEFT_REAL_SLOT(pthread_clockjoin_np);
WEFT_REAL_SLOT(pthread_detach);
WEFT_REAL_SLOT(pthread_exit);
WEFT_REAL_SLOT(pthread_self);
WEFT_REAL_SLOT(pthread_setname_np);
WEFT_REAL_SLOT(pthread_cancel);
WEFT_REAL_SLOT(pthread_kill);
WEFT_REAL_SLOT(sched_yield);
WEFT_REAL_SLOT(fork);
WEFT_REAL_SLOT(execve);
WEFT_REAL_SLOT(execv);
WEFT_REAL_SLOT(execvp);
WEFT_REAL_SLOT(system);
WEFT_REAL_SLOT(posix_spawn);
WEFT_REAL_SLOT(posix_spawnp);

// Over a handle we did not make: only strands' handles mean anything in a
// simulation.
weft::sim::StrandId joinable_strand(Scheduler& s, pthread_t t, int& error) {
  const weft::sim::StrandId id = strand_of(t);
  error = 0;
  if (id == weft::sim::kNoStrand || !World::of(s).thread(id).is_thread)
    error = ESRCH;
  else if (World::of(s).thread(id).detached || World::of(s).thread(id).joined)
    error = EINVAL;
  else if (id == s.current_strand())
    error = EDEADLK;
  return id;
}

// How long a join may wait: not at all (try), until a virtual deadline,
// or until the thread ends.
struct JoinLimit {
  bool try_only = false;
  const Nanos* deadline = nullptr;
};

int join_thread(Scheduler& s, pthread_t t, void** result, JoinLimit limit,
                const char* what, const void* from) {
  Call call(s, what, from);
  int error = 0;
  const weft::sim::StrandId id = joinable_strand(s, t, error);
  if (error != 0) return error;
  if (limit.try_only) {
    // A look at the thread's state, ordered like any other operation.
    s.choice_point(weft::sim::ChoiceKind::kJoin);
    if (!s.finished(id)) return EBUSY;
  }
  // Joined from the start of the wait: a second join meanwhile is EINVAL.
  World::of(s).thread(id).joined = true;
  {
    // Torn down after a failure, the wait returns as though the thread had
    // ended (as the lock calls return rather than unwind): unwinding the
    // caller past a joinable std::thread would call std::terminate.
    const weft::sim::NoUnwindScope no_unwind;
    if (limit.deadline == nullptr) {
      s.join(id, caller(s));
    } else if (!s.join_until(id, *limit.deadline, caller(s)) &&
               !s.tearing_down()) {
      World::of(s).thread(id).joined = false;  // it may be joined again
      return ETIMEDOUT;
    }
  }
  if (result != nullptr) *result = World::of(s).thread(id).result;
  return 0;
}

int clock_join(Scheduler& s, pthread_t t, void** result, clockid_t clock,
               const timespec* abs, const char* what, const void* from) {
  if (abs == nullptr || abs->tv_nsec < 0 || abs->tv_nsec >= 1'000'000'000L)
    return EINVAL;
  const Nanos deadline = virtual_deadline(clock, *abs);
  return join_thread(s, t, result, JoinLimit{false, &deadline}, what, from);
}

}  // namespace

extern "C" {

int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                   void* (*fn)(void*), void* arg) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_create)(thread, attr, fn, arg);
  Call call(*s, "pthread_create", WEFT_CALLER);
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr != nullptr) pthread_attr_getdetachstate(attr, &detach);
  // pthread_create is noexcept: torn down after a failure at the spawn's
  // choice point, it returns rather than unwind.
  const weft::sim::NoUnwindScope no_unwind;
  return create_thread(*s, thread, fn, arg, detach == PTHREAD_CREATE_DETACHED);
}

int pthread_join(pthread_t t, void** result) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_join)(t, result);
  return join_thread(*s, t, result, JoinLimit{}, "pthread_join", WEFT_CALLER);
}

int pthread_tryjoin_np(pthread_t t, void** result) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_tryjoin_np)(t, result);
  return join_thread(*s, t, result, JoinLimit{true, nullptr},
                     "pthread_tryjoin_np", WEFT_CALLER);
}

int pthread_timedjoin_np(pthread_t t, void** result, const timespec* abs) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_timedjoin_np)(t, result, abs);
  return clock_join(*s, t, result, CLOCK_REALTIME, abs, "pthread_timedjoin_np",
                    WEFT_CALLER);
}

int pthread_clockjoin_np(pthread_t t, void** result, clockid_t clock,
                         const timespec* abs) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_clockjoin_np)(t, result, clock, abs);
  return clock_join(*s, t, result, clock, abs, "pthread_clockjoin_np",
                    WEFT_CALLER);
}

int pthread_detach(pthread_t t) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pthread_detach)(t);
  Call call(*s, "pthread_detach", WEFT_CALLER);
  int error = 0;
  const weft::sim::StrandId id = joinable_strand(*s, t, error);
  if (error != 0 && error != EDEADLK) return error;
  World::of(*s).thread(id).detached = true;
  return 0;
}

void pthread_exit(void* result) {
  if (Scheduler* s = strand_scheduler()) {
    s->set_activity("pthread_exit");
    throw ThreadExit{result};
  }
  WEFT_REAL(pthread_exit)(result);
  __builtin_unreachable();
}

pthread_t pthread_self() noexcept {
  if (Scheduler* s = strand_scheduler()) [[unlikely]]
    return handle_of(s->current_strand());
  return WEFT_REAL(pthread_self)();
}

int pthread_setname_np(pthread_t t, const char* name) noexcept {
  if (strand_scheduler() != nullptr) return 0;  // strands keep weft's names
  return WEFT_REAL(pthread_setname_np)(t, name);
}

int pthread_cancel(pthread_t t) {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "pthread_cancel");
    return ENOSYS;
  }
  return WEFT_REAL(pthread_cancel)(t);
}

int pthread_kill(pthread_t t, int sig) noexcept {
  Scheduler* s = strand_scheduler();
  if (s != nullptr && sig != 0) {
    unsupported(*s, "pthread_kill");
    return ENOSYS;
  }
  if (s != nullptr) return strand_of(t) == weft::sim::kNoStrand ? ESRCH : 0;
  return WEFT_REAL(pthread_kill)(t, sig);
}

// Not noexcept, though libc declares it so, like pthread_mutex_lock: a
// strand torn down at the end of a failed run while it yields is unwound
// from here (a spin loop would otherwise never end).
int sched_yield() {
  if (Scheduler* s = strand_scheduler()) [[unlikely]] {
    Call call(*s, "sched_yield", WEFT_CALLER);
    s->choice_point(weft::sim::ChoiceKind::kYield);
    return 0;
  }
  return WEFT_REAL(sched_yield)();
}

pid_t fork() noexcept {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "fork");
    return -1;
  }
  return WEFT_REAL(fork)();
}

int execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "execve");
    return -1;
  }
  return WEFT_REAL(execve)(path, argv, envp);
}

int execv(const char* path, char* const argv[]) noexcept {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "execv");
    return -1;
  }
  return WEFT_REAL(execv)(path, argv);
}

int execvp(const char* file, char* const argv[]) noexcept {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "execvp");
    return -1;
  }
  return WEFT_REAL(execvp)(file, argv);
}

int system(const char* command) {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "system");
    return -1;
  }
  return WEFT_REAL(system)(command);
}

int posix_spawn(pid_t* pid, const char* path,
                const posix_spawn_file_actions_t* actions,
                const posix_spawnattr_t* attr, char* const argv[],
                char* const envp[]) {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "posix_spawn");
    return ENOSYS;
  }
  return WEFT_REAL(posix_spawn)(pid, path, actions, attr, argv, envp);
}

int posix_spawnp(pid_t* pid, const char* file,
                 const posix_spawn_file_actions_t* actions,
                 const posix_spawnattr_t* attr, char* const argv[],
                 char* const envp[]) {
  if (Scheduler* s = strand_scheduler()) {
    unsupported(*s, "posix_spawnp");
    return ENOSYS;
  }
  return WEFT_REAL(posix_spawnp)(pid, file, actions, attr, argv, envp);
}

}  // extern "C"
