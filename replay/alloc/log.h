// Allocator logs in memory: the two forms a weft allocator log takes on
// disk (kind kAllocLog, metadata "form"): "calls", AllocRecords with real
// addresses as recorded or imported, and "slots", SlotRecords with dense
// slot numbers as convert writes them for the replayer. Readers here are
// generators, so a log of any length streams in constant memory.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "traces/alloc_records.h"
#include "traces/generator.h"
#include "traces/reader.h"

namespace weft::replay {

using traces::AllocCall;
using traces::AllocRecord;
using traces::SlotRecord;

inline constexpr int kAllocCallCount = traces::kMaxAllocCall + 1;
// Recorded threads a log may name (the ordered replay runs one thread each).
inline constexpr std::uint32_t kMaxThreads = 4096;

// "malloc", "free", ... as the C function is named.
const char* call_name(AllocCall call);

// Calls that return a new block (realloc excluded).
inline bool is_allocation(AllocCall call) {
  return call != AllocCall::kFree && call != AllocCall::kRealloc;
}

// The records of a calls-form weft log, in file order. Throws
// traces::TraceError if the file is not an allocator log of that form.
// Damaged frames are skipped (the intact ones after them still read);
// `tail`, if given, receives the reader's summary once the records are
// exhausted: what was lost and where (traces::describe_losses).
traces::Generator<AllocRecord> read_calls(std::string path,
                                          traces::ReadSummary* tail = nullptr);

// The rules every converted slots log keeps, checked as one is read: a
// slot is freed, or reallocated from its block, only while it holds one,
// and allocated (or reallocated from null) only while it holds none. A log
// that breaks them is damaged, and replaying it would free a block twice.
class SlotRules {
 public:
  // Empty if `op` keeps the rules after the operations seen so far;
  // otherwise what it breaks.
  std::string check(const SlotRecord& op);

 private:
  std::vector<bool> held_;
};

// What a slots log's operations need besides themselves.
struct SlotLogShape {
  std::uint32_t slots = 0;    // 1 + the largest slot used
  std::uint32_t threads = 0;  // 1 + the largest thread number
  // Where the operation last read ends in the file.
  std::uint64_t offset = 0;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// The latest time an operation (or a recorded call) may carry: 2^62 ns,
// about 146 years since the recording started; anything later is damage,
// not a time (a timed replay adds it to a clock).
inline constexpr std::uint64_t kMaxTimeNs = std::uint64_t{1} << 62;
// The most requested bytes a log may hold live at once: a process's
// address space (47 bits), as for one block.
inline constexpr std::uint64_t kMaxLiveBytes = std::uint64_t{1} << 47;

// The operations of a slots-form log, in order, each checked as it is
// read: slot and thread in range, SlotRules kept, times (if any) on every
// operation, never going back within a thread and at most kMaxTimeNs, live
// bytes below kMaxLiveBytes, and the file whole (no damaged or missing
// frame, not cut, its end marker present). `shape` gets the
// header's metadata at once and the slot and thread counts as operations come.
// Throws traces::TraceError naming the file and the byte offset.
traces::Generator<SlotRecord> read_slots(std::string path, SlotLogShape* shape);

// A slots-form log, whole, in memory (tests and small tools; the replayer
// streams). Throws as read_slots().
struct SlotLog : SlotLogShape {
  std::vector<SlotRecord> ops;
};
SlotLog read_slot_log(const std::string& path);

// Throws TraceError unless `header` is an allocator log of `form`.
void require_form(const std::string& path, const traces::TraceHeader& header,
                  const std::string& form);

}  // namespace weft::replay
