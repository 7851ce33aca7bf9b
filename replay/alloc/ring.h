// The shared-memory ring between `weft alloc record` and the LD_PRELOAD
// recorder in the program it runs: the parent creates it (a memfd), the
// recorder maps it, and every call is committed there before it returns,
// so the parent can still read each completed call after a SIGKILL.
// Contract: a call's sequence number is its ring position. A producer takes
// it from `next_seq`, waits while the position is a whole ring ahead of
// `consumed`, fills the entry and stores `commit` = seq + 1 (release). The
// parent reads positions in order; a position whose commit never comes
// after the program died is a call lost in flight, and is counted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "traces/alloc_records.h"

namespace weft::replay::ring {

// Entries in the ring (128 bytes each, a timed record and its commit word
// being over 64: 32 MiB).
inline constexpr std::uint64_t kEntries = std::uint64_t{1} << 18;
inline constexpr std::uint64_t kMagic = 0x676e69722d746665;  // "eft-ring"
// Set in `commit` for the first of a realloc's two sequence numbers: a
// position that holds no call.
inline constexpr std::uint64_t kFiller = std::uint64_t{1} << 63;
// The environment variable that names the ring's file descriptor.
inline constexpr const char* kEnv = "WEFT_ALLOC_RING";

struct alignas(64) Entry {
  std::atomic<std::uint64_t> commit;  // seq + 1 (| kFiller) once complete
  traces::AllocRecord record;
};
static_assert(sizeof(Entry) == 128);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct Header {
  std::uint64_t magic;
  std::uint64_t entries;
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
