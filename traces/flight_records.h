// The record kind of flight recordings (TraceKind::kFlight): one operation a
// real thread did on a synchronising object, as sim/flight.h logs it. A
// recording is every recorded thread's operations, each thread's in program
// order; `version` orders the operations on one object (docs/architecture.md,
// "Recording real threads"). Plain values and their field coding; the
// container (traces/record.h) gives the kind its tag.
#pragma once

#include <cstdint>
#include <string>

#include "traces/varint.h"

namespace weft::traces {

// sim::flight::Op's numbering, which sim/flight.h checks at compile time.
enum class FlightOp : std::uint8_t {
  kSpawn = 0,         // value: the thread spawned
  kJoin = 1,          // value: the thread joined
  kLock = 2,          // a mutex acquired (a write of its version)
  kCvWait = 3,        // a condition-variable wait returned; value 1: timeout
  kAcquire = 4,       // a semaphore acquired
  kRelease = 5,       // a semaphore released or a latch counted down
  kLatchWait = 6,     // a latch passed or tried; value: try_wait's answer
  kAtomicRead = 7,    // an Atomic load (a read of the version)
  kAtomicWrite = 8,   // an Atomic store or read-modify-write
  kClock = 9,         // Clock::now(); value: the reading in nanoseconds
  kTryFail = 10,      // a try_lock or try_acquire that failed (a read)
  kTimerArm = 11,     // call_after armed a timer; value: its deadline (ns)
  kTimerFire = 12,    // a call_after callback started; value: its arm's
                      // version of the timer service
  kTimerCancel = 13,  // Timer::cancel; value: arm version * 2 + cancelled
};
inline constexpr std::uint8_t kMaxFlightOp = 13;

struct FlightRecord {
  FlightOp op = FlightOp::kSpawn;
  std::uint32_t thread = 0;   // recorded thread (0: the one that started)
  std::uint64_t object = 0;   // object id, in order of first recorded use
  std::uint64_t version = 0;  // writes to the object before this operation
  std::uint64_t value = 0;
  friend bool operator==(const FlightRecord&, const FlightRecord&) = default;
};

// An Atomic operation's value (kAtomicRead, kAtomicWrite): what its
// thread did next to the object with no other thread's write between,
// counted instead of logged (sim/flight.h, AtomicRun): `trailing` reads of
// the version it left (bits 0..19); for a write, `writes` more writes
// (bits 40..63), each after `reads` reads (bits 20..39), the trailing
// reads after the last.
struct FlightRun {
  std::uint64_t trailing = 0;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
};
constexpr FlightRun flight_run(const FlightRecord& f) {
  if (f.op != FlightOp::kAtomicRead && f.op != FlightOp::kAtomicWrite)
    return {};
  constexpr std::uint64_t kReads = (std::uint64_t{1} << 20) - 1;
  return {f.value & kReads, (f.value >> 20) & kReads, f.value >> 40};
}
// The operations a record stands for beside its own (its run's).
constexpr std::uint64_t flight_run_operations(const FlightRecord& f) {
  const FlightRun r = flight_run(f);
  return r.writes * (r.reads + 1) + r.trailing;
}

void put_fields(const FlightRecord& f, std::string& out);
bool get_fields(ByteReader& in, FlightRecord& f);

}  // namespace weft::traces
