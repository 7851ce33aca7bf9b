// weft::intercept: the threading and time API of unmodified code (pthreads,
// and so std::thread, std::mutex, std::condition_variable, sleeps and
// clocks) interposed. On a strand of a simulation each call is a choice
// point or virtual time on the engine's own wait queue; anywhere else it
// forwards to the real function after one thread-local check. This header
// is the small surface other interposers (instrumented atomics) call into.
#pragma once

#include <pthread.h>

#include <functional>

#include "sim/scheduler.h"

namespace weft::intercept {

// The scheduler whose strand runs on this thread, or null: outside a
// simulation, on its scheduling context, or while it tears a run down.
// The one check every interposed call makes first.
inline sim::Scheduler* strand_scheduler() {
  sim::Scheduler* s = sim::Scheduler::current();
  if (s == nullptr) [[likely]]
    return nullptr;
  if (s->current_strand() == sim::kNoStrand) return nullptr;
  return s;
}

// pthread_create on a strand: starts a strand named "thread-<n>" (n counts
// the threads this run created, from 1) running fn(arg), a choice point
// (kSpawn). `*thread` is a handle only the interposed functions understand.
int create_thread(sim::Scheduler& s, pthread_t* thread, void* (*fn)(void*),
                  void* arg, bool detached);

// Runs a program's main on the current strand as a process runs its main
// thread: main's value, or, when main calls pthread_exit, 0 once every
// thread the run created has ended (the process then exits 0, as it would
// on real threads).
int run_main_thread(sim::Scheduler& s, const std::function<int()>& main);

// A call weft cannot simulate (fork, exec, pthread_cancel, a futex
// operation other than wait and wake, ...) made on a strand: reports
// `what` and `why` (what a program under weft must not do; by default
// kNoProcessCalls) through the handler (weft run ends with status 2) or,
// by default, fails the schedule naming the call. The call then returns an
// error (ENOSYS) and the strand stops at its next choice point: most of
// these functions are declared noexcept, so nothing is thrown.
inline constexpr const char* kNoProcessCalls =
    "a program under weft must not fork, exec, or cancel or signal its "
    "threads";
void unsupported(sim::Scheduler& s, const char* what,
                 const char* why = kNoProcessCalls);
using UnsupportedHandler = void (*)(sim::Scheduler& s, const char* what,
                                    const char* why);
void set_unsupported_handler(UnsupportedHandler handler);

// Called when a strand is resumed inside an interposed call to be torn
// down at the end of a failed run, before anything unwinds. `weft run`
// ends its per-schedule process there. If the hook returns (or there is
// none, as in a linked test), the strand is parked, not unwound
// (Scheduler::park_torn_down_strand): a C program's frames cannot be
// unwound, and the noexcept frames of std::latch::wait or of a destructor
// that relocks a mutex would turn the unwinding into std::terminate.
using TeardownHook = void (*)(sim::Scheduler& s);
void set_teardown_hook(TeardownHook hook);
TeardownHook teardown_hook();

// Virtual time as the interposed clocks show it: CLOCK_REALTIME starts at
// 2026-01-01T00:00:00Z, the monotonic clocks at 1000 s, both when the run
// starts, so programs that print or subtract times behave alike each run.
inline constexpr long long kRealtimeBaseSeconds = 1'767'225'600;
inline constexpr long long kMonotonicBaseSeconds = 1'000;

}  // namespace weft::intercept
