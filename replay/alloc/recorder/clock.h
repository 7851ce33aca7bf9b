// The recorder's clock. A recorded call reads ticks() once: on x86-64 the
// time-stamp counter (rdtsc, about a third of a vDSO clock_gettime on the
// 2-vCPU EPYC of docs/performance.md, and constant-rate wherever Linux
// uses it as its clocksource), elsewhere CLOCK_MONOTONIC in nanoseconds.
// Whoever writes the log (the recording parent, or the recorder for a
// child's own log) turns ticks into nanoseconds since the recording's
// start with TickClock, whose rate is measured against CLOCK_MONOTONIC
// over the whole recording so far, and keeps each thread's times
// non-decreasing (a thread moved to another core whose counter lags a
// little must not go back in time).
#pragma once

#include <time.h>

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace weft::replay {

inline std::uint64_t monotonic_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(t.tv_nsec);
}

inline std::uint64_t ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return monotonic_ns();
#endif
}

class TickClock {
 public:
  // The recording starts now, or at `start_ticks` read just before.
  void start() { start(ticks()); }
  void start(std::uint64_t start_ticks) {
    start_ns_ = monotonic_ns();
    start_ticks_ = start_ticks;
    rate_ = 0;
  }
  std::uint64_t start_ticks() const { return start_ticks_; }

  // Measures the tick rate again: call before converting ticks read up to
  // now. Waits (once) until 1 ms has passed since the start, so the rate
  // is good to a few parts in 10^5 from the first call on.
  void calibrate() {
    std::uint64_t ns = monotonic_ns();
    while (ns - start_ns_ < kMinSpanNs) {
      const timespec pause{0, static_cast<long>(kMinSpanNs - (ns - start_ns_))};
      nanosleep(&pause, nullptr);
      ns = monotonic_ns();
    }
    const std::uint64_t t = ticks();
    if (t > start_ticks_)
      rate_ = static_cast<std::uint64_t>((Wide{ns - start_ns_} << kPoint) /
                                         (t - start_ticks_));
  }

  // Nanoseconds since the start for a tick count (0 before the start).
  // In integers (a product and a shift): the double conversions it took
  // before were a third of the recording process's ring reading.
  std::uint64_t to_ns(std::uint64_t t) const {
    if (t <= start_ticks_) return 0;
    return static_cast<std::uint64_t>((Wide{t - start_ticks_} * rate_) >>
                                      kPoint);
  }

 private:
  __extension__ using Wide = unsigned __int128;
  static constexpr std::uint64_t kMinSpanNs = 1000000;
  // The rate's binary point: nanoseconds per tick in 32.32 fixed point.
  static constexpr int kPoint = 32;
  std::uint64_t start_ticks_ = 0;
  std::uint64_t start_ns_ = 0;
  std::uint64_t rate_ = 0;
};

}  // namespace weft::replay
