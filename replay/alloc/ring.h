// The shared-memory ring between `weft alloc record` and the LD_PRELOAD
// recorder in the program it runs: the parent creates it (a memfd), the
// recorder maps it, and every call is committed there before it returns,
// so the parent can still read each completed call after a SIGKILL.
// Contract: a call's sequence number is its ring position. A producer takes
// it from `next_seq`, waits while the position is a whole ring ahead of
// `consumed`, fills the entry and stores `commit` = seq + 1 (release). The
// parent reads positions in order; a position whose commit never comes
// after the program died is a call lost in flight, and is counted.
// Times: the recorder stores the cheap tick count of clock.h; the parent
// turns ticks into nanoseconds since `start_ticks` (see TickClock).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "replay/alloc/recorder/clock.h"
#include "traces/alloc_records.h"

namespace weft::replay::ring {

// Entries in the ring (64 bytes each: 16 MiB).
inline constexpr std::uint64_t kEntries = std::uint64_t{1} << 18;
inline constexpr std::uint64_t kMagic = 0x326e69722d746665;  // "eft-rin2"
// Set in `commit` for the first of a realloc's two sequence numbers: a
// position that holds no call.
inline constexpr std::uint64_t kFiller = std::uint64_t{1} << 63;
// The environment variable that names the ring's file descriptor.
inline constexpr const char* kEnv = "WEFT_ALLOC_RING";

// One call, packed into a cache line: the sequence number is the position
// (commit - 1), and `aux` is a realloc's release_delta or another call's
// alignment (a realloc has none).
struct alignas(64) Entry {
  std::atomic<std::uint64_t> commit;  // seq + 1 (| kFiller) once complete
  std::uint64_t ticks;                // clock.h's ticks() at the call
  std::uint64_t size;
  std::uint64_t ptr;
  std::uint64_t result;
  std::uint64_t aux;
  std::uint32_t thread;
  traces::AllocCall call;
};
static_assert(sizeof(Entry) == 64);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct Header {
  std::uint64_t magic;
  std::uint64_t entries;
  // The recording's start, set by the parent before the program runs.
  std::uint64_t start_ticks;
  // The producers' counter: the next call's sequence number and position.
  alignas(64) std::atomic<std::uint64_t> next_seq;
  // The parent's: every position below has been read (release).
  alignas(64) std::atomic<std::uint64_t> consumed;
  // Each program image that starts recording (the first, and one after
  // each exec) stores the sequence number it starts at and its command
  // line, then bumps `image` (release): the log is the last image's.
  alignas(64) std::atomic<std::uint64_t> image;
  std::atomic<std::uint64_t> image_start;
  char program[4096];
};

inline constexpr std::size_t kBytes = sizeof(Header) + kEntries * sizeof(Entry);

inline Entry* entries(Header* h) {
  return reinterpret_cast<Entry*>(reinterpret_cast<char*>(h) + sizeof(Header));
}

}  // namespace weft::replay::ring
