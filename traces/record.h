// The records a trace holds, as plain values, and their byte encoding: a
// tag byte then varint fields. Records carry no scheduling logic; sim and
// replay convert their own types to and from these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "traces/varint.h"

namespace weft::traces {

// One scheduler decision (mirrors weft::sim::Choice).
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
  enum class Kind : std::uint8_t {
    kWorkItem = 0,
    kMessage = 1,
    kTimer = 2,
    kIoReady = 3,
    kFault = 4,
    kWakeup = 5,
  };
  Kind kind = Kind::kWorkItem;
  std::uint32_t strand = 0;
  std::uint32_t peer = 0;  // the other strand of a message or wake-up
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t value = 0;
  std::string detail;
  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

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
  friend bool operator==(const SlotRecord&, const SlotRecord&) = default;
};

using Record = std::variant<ChoiceRecord, StrandRecord, EventRecord,
                            FailureRecord, TimeRecord, AllocRecord, SlotRecord>;

// Tags 0-4 are the records above, 5 AllocRecord and 6 SlotRecord; 7-63 are
// reserved for later kinds of this major version, so an unknown tag is an
// error. Tag values from 64 up are never records: 64 marks a frame in the
// column layout (traces/columns.h).
void encode(const Record& record, std::string& out);

// Decodes one record; nullopt if the bytes are malformed or the tag is
// unknown (the caller reports where).
std::optional<Record> decode(ByteReader& in);

// The same coding split in two, for the column layout, which keeps the
// tags in a column of their own: a record's tag, and its fields alone.
std::uint8_t tag_of(const Record& record);
void encode_fields(const Record& record, std::string& out);
std::optional<Record> decode_fields(std::uint8_t tag, ByteReader& in);

}  // namespace weft::traces
