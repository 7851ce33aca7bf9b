// The futex system call, interposed through libc's syscall(). C++20's
// std::atomic<T>::wait and notify, std::counting_semaphore, std::latch,
// std::barrier and std::stop_token wait on a futex word by calling
// syscall(SYS_futex, ...) from the standard library's headers, which no
// pthread function sees. On a strand, FUTEX_WAIT (and _BITSET) is a choice
// point (kWait) that compares the word and blocks the strand on the word's
// queue; FUTEX_WAKE (and _BITSET) is a choice point (kNotify) whose choice
// of waiters, when it wakes fewer than match, is a value choice. Other
// futex operations on a strand are reported as unsupported; every other
// system call, and every call off a strand, goes to libc. Internal.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdarg>
#include <vector>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

using namespace weft::intercept;
using namespace weft::intercept::internal;
using weft::sim::ChoiceKind;

namespace {
WEFT_REAL_SLOT(syscall);

constexpr const char* kFutexOps =
    "weft simulates only the futex operations FUTEX_WAIT, FUTEX_WAKE, "
    "FUTEX_WAIT_BITSET and FUTEX_WAKE_BITSET";

// One futex call's arguments, as the kernel reads them.
struct FutexCall {
  int* word = nullptr;
  int command = 0;  // the operation without its private and clock flags
  bool realtime = false;
  int value = 0;  // FUTEX_WAIT*: the expected word; FUTEX_WAKE*: how many
  const timespec* timeout = nullptr;
  std::uint32_t mask = ~0U;  // the _BITSET forms' val3
};

Object& futex_object(Scheduler& s, const int* word) {
  return World::of(s).object(word, Object::Kind::kFutex, [](Object&) {});
}

Nanos wait_deadline(Scheduler& s, const FutexCall& f) {
  // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's absolute, on the
  // monotonic clock unless FUTEX_CLOCK_REALTIME.
  if (f.command == FUTEX_WAIT)
    return s.now() +
           Nanos{static_cast<long long>(f.timeout->tv_sec) * 1'000'000'000LL +
                 f.timeout->tv_nsec};
  return virtual_deadline(f.realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC,
                          *f.timeout);
}

long futex_wait(Scheduler& s, Call& call, const FutexCall& f) {
  Object& o = futex_object(s, f.word);
  s.choice_point(ChoiceKind::kWait, op(ChoiceKind::kWait, &o), false);
  // The kernel's compare and enqueue are one step: a wake after it finds
  // this strand queued, a store before it makes the wait return at once.
  if (__atomic_load_n(f.word, __ATOMIC_SEQ_CST) != f.value) {
    call.set_errno(EAGAIN);
    return -1;
  }
  Nanos deadline{};
  if (f.timeout != nullptr) deadline = wait_deadline(s, f);
  const StrandId me = s.current_strand();
  World::of(s).thread(me).futex_mask = f.mask;
  o.waiters.add(me);
  if (!o.waiters.block_until_woken(
          s, ChoiceKind::kWait, &o, "be woken through", caller(s),
          f.timeout != nullptr ? &deadline : nullptr)) {
    // The deadline passed. (A wait torn down at the end of a failed run
    // never returns to its caller: ~Call parks the strand.)
    call.set_errno(ETIMEDOUT);
    return -1;
  }
  return 0;
}

long futex_wake(Scheduler& s, const FutexCall& f) {
  Object& o = futex_object(s, f.word);
  s.choice_point(ChoiceKind::kNotify, op(ChoiceKind::kNotify, &o), false);
  World& w = World::of(s);
  long woken = 0;
  std::vector<std::size_t> matching;
  while (woken < f.value) {
    matching.clear();
    for (std::size_t i = 0; i < o.waiters.size(); ++i)
      if ((w.thread(o.waiters.at(i)).futex_mask & f.mask) != 0)
        matching.push_back(i);
    if (matching.empty()) break;
    // Which waiters a partial wake takes is the kernel's to choose.
    const bool all_go = static_cast<long>(matching.size()) <= f.value - woken;
    const std::size_t pick =
        all_go ? 0
               : s.choose_value(ChoiceKind::kNotify,
                                static_cast<std::uint32_t>(matching.size()));
    o.waiters.wake_at(s, matching[pick]);
    ++woken;
  }
  return woken;
}

long simulated_futex(Scheduler& s, const FutexCall& f, const void* from) {
  Call call(s, "futex", from);
  // Returns rather than unwind when the run is torn down (syscall is
  // noexcept); the strand is unwound at its next choice point.
  const weft::sim::NoUnwindScope no_unwind;
  if ((f.command == FUTEX_WAIT_BITSET || f.command == FUTEX_WAKE_BITSET) &&
      f.mask == 0) {
    call.set_errno(EINVAL);
    return -1;
  }
  switch (f.command) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
      return futex_wait(s, call, f);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      return futex_wake(s, f);
    default:
      unsupported(s, "futex with an operation other than wait or wake",
                  kFutexOps);
      call.set_errno(ENOSYS);
      return -1;
  }
}

}  // namespace

extern "C" {

// The kernel takes six register arguments; reading all six, as libc's own
// syscall() does, passes on whatever the caller gave.
long syscall(long number, ...) noexcept {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  Scheduler* s = strand_scheduler();
  if (s == nullptr || number != SYS_futex) [[likely]]
    return WEFT_REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  FutexCall f;
  f.word = reinterpret_cast<int*>(a[0]);
  const int operation = static_cast<int>(a[1]);
  f.command = operation & FUTEX_CMD_MASK;
  f.realtime = (operation & FUTEX_CLOCK_REALTIME) != 0;
  f.value = static_cast<int>(a[2]);
  f.timeout = reinterpret_cast<const timespec*>(a[3]);
  if (f.command == FUTEX_WAIT_BITSET || f.command == FUTEX_WAKE_BITSET)
    f.mask = static_cast<std::uint32_t>(a[5]);
  return simulated_futex(*s, f, WEFT_CALLER);
}

}  // extern "C"
