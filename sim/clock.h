// Time as weft components see it. Inside a simulation Clock::now() is the
// schedule's virtual time, which moves only when no strand can run, jumping
// to the next deadline; outside one it is std::chrono::steady_clock.
// sleep_for/sleep_until are choice points (kSleep); timer callbacks fire
// in deadline order, equal deadlines first-armed first, on one timer strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "sim/internal/uninstrumented.h"
#include "sim/scheduler.h"
#include "sim/source_location.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

struct Clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock, duration>;
  static constexpr bool is_steady = true;

  static time_point now();
};

void sleep_for(Clock::duration d,
               SourceLocation where = SourceLocation::current());
void sleep_until(Clock::time_point t,
                 SourceLocation where = SourceLocation::current());

// A pending call_after(). Cancelling is idempotent; cancel() says whether
// the callback was still pending. Destroying a Timer does not cancel it.
class Timer {
 public:
  Timer() = default;
  bool cancel();

 private:
  friend Timer call_after(Clock::duration, std::function<void()>);
  Scheduler* sched_ = nullptr;  // null: a real timer
  std::uint64_t run_id_ = 0;
  TimerKey key_;
  std::uint64_t real_id_ = 0;
  // Recorded (sim/flight.h): the arm's version of the timer service.
  std::uint64_t real_arm_ = 0;
};

// Runs `callback` once `delay` has passed: on the simulation's timer strand
// in a simulation, on a process-wide timer thread otherwise.
Timer call_after(Clock::duration delay, std::function<void()> callback);

WEFT_HEADER_CODE_END
}  // namespace weft::sim
