// The record kinds of allocator logs (TraceKind::kAllocLog): what the
// recorder and the importers write (AllocRecord) and what conversion to
// slots writes (SlotRecord); replay/alloc_log.h reads them. Plain values
// and their field coding; the container (traces/record.h) gives them
// their tags.
#pragma once

#include <cstdint>
#include <string>

#include "traces/varint.h"

namespace weft::traces {

// The allocator call an allocator-log record stands for.
enum class AllocCall : std::uint8_t {
  kMalloc = 0,
  kFree = 1,
  kCalloc = 2,
  kRealloc = 3,
  kPosixMemalign = 4,
  kAlignedAlloc = 5,
  kMemalign = 6,
  kValloc = 7,
};
inline constexpr std::uint8_t kMaxAllocCall = 7;

// One allocator call of a recorded program, as the recorder or an importer
// saw it: addresses are the real ones. `seq` orders calls across threads
// (the recorder takes it before a free releases a block and after an
// allocation obtained one; a realloc takes one before and one after);
// `result` 0 is a failed call. calloc's size is
// nmemb * size; `align` is 0 for calls without one.
struct AllocRecord {
  AllocCall call = AllocCall::kMalloc;
  std::uint32_t thread = 0;
  std::uint64_t seq = 0;
  std::uint64_t size = 0;
  std::uint64_t align = 0;
  std::uint64_t ptr = 0;     // the block freed or reallocated
  std::uint64_t result = 0;  // the block returned
  // realloc of a block: `seq` minus the sequence number taken just before
  // the call, from when the old block may be released (and handed to
  // another thread); 0 for other calls.
  std::uint64_t release_delta = 0;
  // When the call was made, in nanoseconds since the recording started
  // (format 2.3; a thread's calls never go back in time); `timed` is false
  // for logs without times (older recordings, mtrace).
  bool timed = false;
  std::uint64_t time_ns = 0;
  friend bool operator==(const AllocRecord&, const AllocRecord&) = default;
};

// One call of a converted log: addresses replaced by dense slot numbers (a
// slot is taken at allocation and given back at free, so slots < the peak
// number of live blocks). Realloc keeps its block's slot; `from_null` marks
// realloc(NULL, size), which allocates.
struct SlotRecord {
  AllocCall call = AllocCall::kMalloc;
  bool from_null = false;
  std::uint32_t thread = 0;
  std::uint32_t slot = 0;
  std::uint64_t size = 0;
  std::uint64_t align = 0;
  bool timed = false;  // as AllocRecord's (format 2.3)
  std::uint64_t time_ns = 0;
  friend bool operator==(const SlotRecord&, const SlotRecord&) = default;
};

// The fields of each kind (without its tag), as docs/trace-format.md's
// record table lists them. get_fields is false on malformed input.
void put_fields(const AllocRecord& a, std::string& out);
void put_fields(const SlotRecord& l, std::string& out);
bool get_fields(ByteReader& in, AllocRecord& a);
bool get_fields(ByteReader& in, SlotRecord& l);

}  // namespace weft::traces
