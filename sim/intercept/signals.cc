// Waiting for a signal, interposed. No signal reaches a strand: a
// program's own pthread_kill with a signal is unsupported, and nothing
// else in a simulation sends one. So on a strand sigwait, sigwaitinfo,
// sigsuspend and pause wait for good, as a strand, a wait like any other
// (a deadlock report names it), and sigtimedwait returns EAGAIN at its
// virtual deadline. In the real call, a server's signal-handling thread
// stopped the one OS thread every strand runs on: every schedule hung.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

using namespace weft::intercept;
using namespace weft::intercept::internal;

namespace {

WEFT_REAL_SLOT(sigwait);
WEFT_REAL_SLOT(sigwaitinfo);
WEFT_REAL_SLOT(sigtimedwait);
WEFT_REAL_SLOT(sigsuspend);
WEFT_REAL_SLOT(pause);

// What a strand waiting for a signal waits on: one object per run.
const int g_signals = 0;

// Waits until `deadline` (null: for good); returns with errno EAGAIN when
// it passes (nothing else ends the wait).
void wait_for_signal(Scheduler& s, const Nanos* deadline, const char* what,
                     const void* from) {
  Call call(s, what, from);
  Object& o =
      World::of(s).object(&g_signals, Object::Kind::kSignals, [](Object&) {});
  s.choice_point(weft::sim::ChoiceKind::kWait,
                 op(weft::sim::ChoiceKind::kWait, &o));
  o.waiters.add(s.current_strand());
  o.waiters.block_until_woken(s, weft::sim::ChoiceKind::kWait, &o,
                              "receive a signal through", caller(s), deadline);
  call.set_errno(EAGAIN);
}

}  // namespace

extern "C" {

int sigwait(const sigset_t* set, int* sig) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sigwait)(set, sig);
  wait_for_signal(*s, nullptr, "sigwait", WEFT_CALLER);
  return EINTR;  // not reached: nothing wakes the wait
}

int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sigwaitinfo)(set, info);
  wait_for_signal(*s, nullptr, "sigwaitinfo", WEFT_CALLER);
  return -1;
}

int sigtimedwait(const sigset_t* set, siginfo_t* info,
                 const timespec* timeout) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sigtimedwait)(set, info, timeout);
  if (timeout == nullptr) {
    wait_for_signal(*s, nullptr, "sigtimedwait", WEFT_CALLER);
    return -1;
  }
  if (timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000L) {
    errno = EINVAL;
    return -1;
  }
  const Nanos deadline = s->now() + std::chrono::seconds(timeout->tv_sec) +
                         std::chrono::nanoseconds(timeout->tv_nsec);
  wait_for_signal(*s, &deadline, "sigtimedwait", WEFT_CALLER);
  return -1;
}

int sigsuspend(const sigset_t* mask) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sigsuspend)(mask);
  wait_for_signal(*s, nullptr, "sigsuspend", WEFT_CALLER);
  return -1;
}

int pause() {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(pause)();
  wait_for_signal(*s, nullptr, "pause", WEFT_CALLER);
  return -1;
}

}  // extern "C"
