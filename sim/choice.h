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
};
inline constexpr int kChoiceKindCount = 16;

std::string_view to_string(ChoiceKind kind);

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
// which could have continued.
std::size_t count_preemptions(std::span<const Choice> schedule);

}  // namespace weft::sim
