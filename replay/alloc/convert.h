// Convert: turns a calls log (real addresses) into a slots log (dense slot
// numbers) by a pipeline of generators, reader -> in_sequence -> to_slots
// -> writer. A block takes a slot when it is allocated and gives it back to
// a free list when it is freed, so the replayer needs an array only as long
// as the peak number of live blocks, and convert's memory is bounded by
// live blocks (plus a fixed reorder window and a fixed memory of recent
// frees), not by the length of the log.
#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "replay/alloc/log.h"
#include "traces/generator.h"

namespace weft::replay {

struct ConvertStats {
  std::uint64_t calls = 0;       // records read
  std::uint64_t operations = 0;  // slot operations written
  std::uint64_t peak_live = 0;   // blocks: the slot array's length
  std::uint64_t failed = 0;      // allocations that returned NULL (dropped)
  // Anomalies: each is counted and the log repaired as described.
  std::uint64_t unknown_frees = 0;  // free of an address never handed out
  std::uint64_t double_frees = 0;   // free of an address freed recently
  // An address handed out again while the log still has it live: its old
  // block is taken as freed at that point.
  std::uint64_t reused_before_free = 0;
  // Sequence numbers never seen (records lost, e.g. a thread killed
  // before its buffer landed) and records that arrived after the window.
  std::uint64_t sequence_gaps = 0;
  std::uint64_t late = 0;
  // A recording cut inside its last frame (the program was killed): the
  // complete part is converted, and this says where the cut is and how
  // many bytes after it were lost (0 if the file is whole).
  std::uint64_t lost_bytes = 0;
  std::uint64_t lost_at = 0;
  // What reading the input lost (damaged, missing or cut frames, no end
  // marker), one line each with the file and byte offset: empty for a
  // whole input (traces::describe_losses).
  std::vector<std::string> losses;
  std::uint64_t reordered = 0;   // records that came out of file order
  std::uint64_t max_window = 0;  // most records held to restore order
  std::uint64_t anomalies() const {
    return unknown_frees + double_frees + reused_before_free + sequence_gaps +
           late;
  }
};

// The largest time a calls log may hold is kMaxTimeNs (log.h): 2^62 ns,
// about 146 years since the recording started. Anything later is damage,
// not a time.

// A calls log whose times are not times: a thread's time goes back in
// file order, or one is past kMaxTimeNs. Always refused (bad input), with
// the record's number in the file, its thread and both times.
class BadTimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An anomaly under --strict.
class ConvertError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConvertOptions {
  bool strict = false;  // throw ConvertError at the first anomaly
  // Records held back at most to restore sequence order (per-thread
  // buffers land out of order; the recorder's buffers hold 1024 each).
  std::size_t reorder_window = 1 << 20;
  std::size_t recent_frees = 1 << 16;  // remembered to tell double frees
  // Called every 2^20 calls read (weft alloc convert shows progress on a
  // terminal with it). A plain function pointer: the options are copied
  // into coroutine frames, and clang 14 miscompiles the copy of a
  // by-value coroutine parameter that is not trivially copyable.
  void (*progress)(std::uint64_t calls) = nullptr;
};

// Orders records by `seq` (the recorder's global sequence number). Holds at
// most options.reorder_window records. Throws BadTimeError at a bad time.
traces::Generator<AllocRecord> in_sequence(traces::Generator<AllocRecord> in,
                                           ConvertStats& stats,
                                           ConvertOptions options = {});

// Addresses to slots. Records must come in sequence order.
traces::Generator<SlotRecord> to_slots(traces::Generator<AllocRecord> in,
                                       ConvertStats& stats,
                                       ConvertOptions options = {});

// The whole pass: `input` is a weft calls log, an mtrace log or a heaptrack
// data file (detected); writes a slots log to `output`, which appears only
// if convert succeeds (an earlier file of that name stays otherwise).
// Throws traces::TraceError on bad input, ConvertError under strict
// (anomalies, or any loss in reading the input).
ConvertStats convert(const std::string& input, const std::string& output,
                     ConvertOptions options = {});

void print_stats(const ConvertStats& stats, std::ostream& out);

}  // namespace weft::replay
