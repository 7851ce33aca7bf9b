// Clocks and sleeps, interposed: on a strand every clock reads the run's
// virtual time (see the bases in intercept.h) and every sleep is a sleep
// of the scheduler (kSleep), which moves virtual time, never real time.
// poll and select with no descriptors, the portable sleeps, are sleeps too;
// with descriptors they are real I/O, outside weft's control.
#include <poll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

using namespace weft::intercept;
using namespace weft::intercept::internal;

namespace {
WEFT_REAL_SLOT(clock_gettime);
WEFT_REAL_SLOT(gettimeofday);
WEFT_REAL_SLOT(time);
WEFT_REAL_SLOT(nanosleep);
WEFT_REAL_SLOT(clock_nanosleep);
WEFT_REAL_SLOT(usleep);
WEFT_REAL_SLOT(sleep);
WEFT_REAL_SLOT(poll);
WEFT_REAL_SLOT(select);

Nanos duration(const timespec& ts) {
  return Nanos{static_cast<long long>(ts.tv_sec) * 1'000'000'000LL +
               ts.tv_nsec};
}

void sleep_until(Scheduler& s, Nanos deadline, const char* what,
                 const void* from) {
  Call call(s, what, from);
  s.sleep_until(deadline, caller(s));
}

}  // namespace

extern "C" {

int clock_gettime(clockid_t clock, timespec* ts) noexcept {
  if (Scheduler* s = strand_scheduler()) [[unlikely]] {
    *ts = to_timespec(clock, s->now());
    return 0;
  }
  return WEFT_REAL(clock_gettime)(clock, ts);
}

// glibc declares the timezone argument as void* (it is obsolete).
int gettimeofday(timeval* tv, void* tz) noexcept {
  if (Scheduler* s = strand_scheduler()) [[unlikely]] {
    const timespec ts = to_timespec(CLOCK_REALTIME, s->now());
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
  }
  return WEFT_REAL(gettimeofday)(tv, tz);
}

time_t time(time_t* out) noexcept {
  if (Scheduler* s = strand_scheduler()) [[unlikely]] {
    const time_t t = to_timespec(CLOCK_REALTIME, s->now()).tv_sec;
    if (out != nullptr) *out = t;
    return t;
  }
  return WEFT_REAL(time)(out);
}

int nanosleep(const timespec* req, timespec* rem) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(nanosleep)(req, rem);
  sleep_until(*s, s->now() + duration(*req), "nanosleep", WEFT_CALLER);
  if (rem != nullptr) *rem = timespec{};
  return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* req,
                    timespec* rem) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(clock_nanosleep)(clock, flags, req, rem);
  const Nanos deadline = (flags & TIMER_ABSTIME) != 0
                             ? virtual_deadline(clock, *req)
                             : s->now() + duration(*req);
  sleep_until(*s, deadline, "clock_nanosleep", WEFT_CALLER);
  if (rem != nullptr) *rem = timespec{};
  return 0;
}

int usleep(useconds_t us) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(usleep)(us);
  sleep_until(*s, s->now() + std::chrono::microseconds(us), "usleep",
              WEFT_CALLER);
  return 0;
}

unsigned sleep(unsigned seconds) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return WEFT_REAL(sleep)(seconds);
  sleep_until(*s, s->now() + std::chrono::seconds(seconds), "sleep",
              WEFT_CALLER);
  return 0;
}

int poll(pollfd* fds, nfds_t n, int timeout_ms) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr || n != 0 || timeout_ms < 0) [[likely]]
    return WEFT_REAL(poll)(fds, n, timeout_ms);
  sleep_until(*s, s->now() + std::chrono::milliseconds(timeout_ms), "poll",
              WEFT_CALLER);
  return 0;
}

int select(int n, fd_set* read, fd_set* write, fd_set* except,
           timeval* timeout) {
  Scheduler* s = strand_scheduler();
  if (s == nullptr || n != 0 || timeout == nullptr) [[likely]]
    return WEFT_REAL(select)(n, read, write, except, timeout);
  sleep_until(*s,
              s->now() + std::chrono::seconds(timeout->tv_sec) +
                  std::chrono::microseconds(timeout->tv_usec),
              "select", WEFT_CALLER);
  *timeout = timeval{};  // what is left of it, as Linux says
  return 0;
}

}  // extern "C"
