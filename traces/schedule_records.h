// The record kinds of schedule and event traces (TraceKind::kSchedule,
// kEvents): what sim/harness/schedule_trace.h writes for one run of the
// scheduler. Plain values and their field coding; the container
// (traces/record.h) gives them their tags. The kind numbers below are part of
// the file format; sim's enums must keep the same numbers, which
// sim/harness/schedule_trace.cc checks at compile time where it converts.
#pragma once

#include <cstdint>
#include <string>

#include "traces/varint.h"

namespace weft::traces {

// The operation that reached a choice point: the kind byte of a choice
// record (sim::ChoiceKind's numbering). A byte outside this list still
// round-trips, but a schedule holding it does not replay.
enum class ChoiceRecordKind : std::uint8_t {
  kSpawn = 0,
  kYield = 1,
  kLock = 2,
  kUnlock = 3,
  kWait = 4,
  kNotify = 5,
  kTimer = 6,
  kMessage = 7,
  kFault = 8,
  kAtomic = 9,
  kJoin = 10,
  kExit = 11,
  kSleep = 12,
  kWork = 13,
  kRelease = 14,
  kAcquire = 15,
  kChoose = 16,
};
inline constexpr std::uint8_t kChoiceRecordKindCount = 17;

// One scheduler decision (sim::Choice as a record). `kind` is a
// ChoiceRecordKind's byte.
struct ChoiceRecord {
  std::uint8_t kind = 0;
  bool is_value = false;
  std::uint32_t strand = 0;
  std::uint32_t count = 0;
  std::uint32_t chosen = 0;
  std::uint32_t picked = 0;
  bool preemption = false;
  std::uint64_t step = 0;
  friend bool operator==(const ChoiceRecord&, const ChoiceRecord&) = default;
};

struct StrandRecord {
  enum class Event : std::uint8_t { kSpawn = 0, kExit = 1 };
  Event event = Event::kSpawn;
  std::uint32_t strand = 0;
  std::uint32_t parent = 0;
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::string name;
  friend bool operator==(const StrandRecord&, const StrandRecord&) = default;
};

struct EventRecord {
  // sim::EventKind's numbering for the kinds a component reports; kTimer
  // and kWakeup are the scheduler's own wake-ups.
  enum class Kind : std::uint8_t {
    kWorkItem = 0,
    kMessage = 1,
    kTimer = 2,
    kIoReady = 3,
    kFault = 4,
    kWakeup = 5,
  };
  static constexpr std::uint8_t kMaxKind = 5;
  Kind kind = Kind::kWorkItem;
  std::uint32_t strand = 0;
  std::uint32_t peer = 0;  // the other strand of a message or wake-up
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t value = 0;
  std::string detail;
  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

// Why a run failed: the kind byte of a failure record (sim::FailureKind's
// numbering).
enum class FailureRecordKind : std::uint8_t {
  kAssertion = 0,
  kException = 1,
  kDeadlock = 2,
  kStepLimit = 3,
  kTimeLimit = 4,
  kLeak = 5,
  kReplayDivergence = 6,
  kCrash = 7,
  kExit = 8,
  kStackOverflow = 9,
  kHang = 10,
  kNondeterminism = 11,
  kDataRace = 12,
};
inline constexpr std::uint8_t kFailureRecordKindCount = 13;

// `kind` is a FailureRecordKind's byte.
struct FailureRecord {
  std::uint8_t kind = 0;
  std::uint32_t strand = 0;
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::string message;
  friend bool operator==(const FailureRecord&, const FailureRecord&) = default;
};

// Virtual time moved to `time_ns` at scheduler step `step`. Written only
// when time changes, so a record without its own time takes the latest.
struct TimeRecord {
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  friend bool operator==(const TimeRecord&, const TimeRecord&) = default;
};

// What a strand did at one step, for the eye (the timeline, `weft trace
// show`): the operation and its object ("lock mutex 'accounts'"), the value
// an atomic operation read or wrote, where in the source it was called,
// and whether the strand blocked there (then `what` names what it waits
// on). Written only while a run is recorded; replay ignores it. Added in
// format 2.1.
struct OpRecord {
  std::uint8_t kind = 0;  // a ChoiceRecordKind's byte
  bool has_value = false;
  bool is_signed = false;  // `value` is an int64's bits
  bool blocks = false;     // the strand waits from here until woken
  std::uint32_t strand = 0;
  std::uint64_t step = 0;
  std::uint64_t value = 0;
  std::string what;
  std::string where;  // "dir/file.cc:42", or "" if not known
  friend bool operator==(const OpRecord&, const OpRecord&) = default;
};

// The fields of each kind (without its tag), as docs/trace-format.md's
// record table lists them. get_fields is false on malformed input.
void put_fields(const ChoiceRecord& c, std::string& out);
void put_fields(const StrandRecord& s, std::string& out);
void put_fields(const EventRecord& e, std::string& out);
void put_fields(const FailureRecord& f, std::string& out);
void put_fields(const TimeRecord& t, std::string& out);
void put_fields(const OpRecord& o, std::string& out);
bool get_fields(ByteReader& in, ChoiceRecord& c);
bool get_fields(ByteReader& in, StrandRecord& s);
bool get_fields(ByteReader& in, EventRecord& e);
bool get_fields(ByteReader& in, FailureRecord& f);
bool get_fields(ByteReader& in, TimeRecord& t);
bool get_fields(ByteReader& in, OpRecord& o);

}  // namespace weft::traces
