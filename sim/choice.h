// The vocabulary of a schedule: every decision the scheduler makes is a
// Choice of one kind, taken among the alternatives enabled at that moment.
// The ordered list of Choices made in a run *is* its schedule.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace weft::sim {

using StrandId = std::uint32_t;
inline constexpr StrandId kNoStrand = 0xffffffffu;

// What the running strand was about to do when the choice was made. A
// choice of a *value* (spurious wake-up, fault, worker to perform) is tagged
// with the kind of the operation that asked for it.
enum class ChoiceKind : std::uint8_t {
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
  kRelease = 14,  // a semaphore release or a latch count-down
  kAcquire = 15,  // a semaphore acquire
  kChoose = 16,   // a value the test asked for: weft::choose, random_bool
};
inline constexpr int kChoiceKindCount = 17;

std::string_view to_string(ChoiceKind kind);

// What a strand will do when it next runs: the one operation another
// strand can observe at the start of its next segment (docs/architecture.md,
// "pending operations"). Objects are compared by address for equality only,
// and only within one run; a strategy that keeps anything across runs keys
// it by strand id and step, never by these addresses.
enum class Access : std::uint8_t {
  kNone = 0,   // touches nothing shared: a new strand's start, after a spawn
  kRead = 1,   // reads `object` (an atomic load, a latch's count)
  kWrite = 2,  // modifies `object` (and `object2`, if set)
  kAll = 3,    // unknown or global (yield, sleep, timers): conflicts with all
};

struct PendingOp {
  ChoiceKind kind = ChoiceKind::kSpawn;
  Access access = Access::kNone;
  const void* object = nullptr;
  const void* object2 = nullptr;  // CondVar::wait also releases its mutex
  StrandId strand = kNoStrand;    // kJoin: the strand joined
  // The object's name for reports (a named Atomic), or null. Valid while
  // the object lives, which it does while a strand is about to use it.
  const char* name = nullptr;
};

// The dependence relation of partial-order reduction: whether strand `a`
// doing `x` and strand `b` doing `y` may not commute. Ops of one strand
// are dependent (program order); a join of `b` depends on every op of `b`;
// otherwise they are dependent when one is kAll, or they share an object
// and at least one writes.
bool dependent(StrandId a, const PendingOp& x, StrandId b, const PendingOp& y);

// What a Strategy sees at a choice point. For a strand choice `strands`
// lists the enabled strands in ascending id order and the answer is an
// index into it; for a value choice `strands` is empty and the answer is a
// value in [0, count).
struct ChoicePoint {
  ChoiceKind kind;
  bool is_value;
  std::uint32_t count;
  std::span<const StrandId> strands;
  StrandId current;
  std::uint64_t step;
  // Each strand's pending operation, indexed by strand id (not by position
  // in `strands`): what an enabled strand does if picked. Filled by the
  // scheduler at no cost (it points at the scheduler's own array); empty
  // for value choices and for points made outside a scheduler.
  std::span<const PendingOp> pending_ops = {};
  const PendingOp& pending(StrandId id) const { return pending_ops[id]; }
};

// One recorded decision. Only points with two or more alternatives are
// recorded: a forced move carries no information.
struct Choice {
  ChoiceKind kind;
  bool is_value;
  StrandId strand;       // the strand that reached the choice point
  std::uint32_t count;   // number of alternatives offered
  std::uint32_t chosen;  // index chosen, in [0, count)
  StrandId picked;       // the strand picked (strand choices), else chosen
  bool preemption;       // switched away from a strand that could go on
  std::uint64_t step;    // scheduler step at which it was made

  friend bool operator==(const Choice&, const Choice&) = default;
};

using Schedule = std::vector<Choice>;

// A stable 64-bit digest of a schedule (FNV-1a over its fields in a fixed
// byte order), for determinism checks.
std::uint64_t digest(std::span<const Choice> schedule);

// Number of preemptions: strand choices that switched away from a strand
// which could have continued, a yield's switch excepted (the strand gave
// way itself). As the preemption bounds count them (dfs, dpor and
// WEFT_MAX_PREEMPTIONS), so a bounded search's summary stays within its
// bound.
std::size_t count_preemptions(std::span<const Choice> schedule);

}  // namespace weft::sim
