// What the files of the coroutine services (runtime/service*.cc) share.
#pragma once

#include <string>

#include "runtime/service.h"
#include "sim/clock.h"

namespace weft::runtime::internal {

// CPU time of this thread (real), or virtual time (simulated: burn()
// spends virtual time on the worker, so a segment's span is its CPU).
sim::Clock::duration cpu_now();

// "1.5s"
std::string seconds(sim::Clock::duration d);

// An error with nobody to tell (a send's handler threw, a send had no
// handler): in a simulation the schedule fails; on real threads it is
// printed to stderr, as skynet logs it.
void report_lost_error(const std::string& what);

// Inside a catch block: what the exception in flight says, of any type
// ("out of cheese", "an exception of type int"). sim::StrandCancelled and
// sim::StrandAborted are rethrown: they stop the strand, they are no
// user's error.
std::string describe_thrown_for_report();

// Marks the user coroutines `co` drives as blocked by the framework.
void block_user_coroutines(Co* co, const std::string& in);

// Sets running_co() for the life of a segment.
class RunningCo {
 public:
  explicit RunningCo(Co* co);
  ~RunningCo();
  RunningCo(const RunningCo&) = delete;
  RunningCo& operator=(const RunningCo&) = delete;

 private:
  Co* previous_;
};

// The coroutine a framework suspension (a call, sleep or wait named by
// `what`) belongs to: the running one. BlockedCoroutineError when there
// is none, or when plain code resumed a user coroutine in it (resume()
// cannot be suspended: the reply would be lost).
Co* suspending_co(const std::string& what);

}  // namespace weft::runtime::internal
