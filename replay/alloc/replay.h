// The allocator replayer: drives an allocator through a slots log from a
// static slot array (no hash table in the hot loop), fills every block with
// a slot-specific pattern when it is allocated and checks it at free and
// realloc, checks calloc memory for zeros and every result for alignment,
// and measures speed, per-call latency percentiles, peak and final RSS,
// peak live requested bytes and fragmentation. replay_here() runs in the
// calling process against whatever malloc it has; replay_in_child() runs
// the weft-alloc-replayer program with the allocator preloaded, one child
// per allocator. The log streams: operations are decoded a chunk at a time
// (about a million) with the clock paused, so the replayer's memory is the
// live blocks, the slot array and one chunk, whatever the log's length.
// The slot array and the chunk are allocated with mmap (so a broken
// allocator cannot hand out the replayer's own memory) and are subtracted
// from every RSS figure.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "replay/alloc/log.h"

namespace weft::replay {

struct ReplayOptions {
  // Pattern, zero and alignment checks and per-call timing; off for pure
  // speed (--no-check).
  bool check = true;
  // One thread per recorded thread, each in its recorded order (a block
  // handed from one thread to another waits for its hand-off); otherwise
  // one thread runs every operation in global order as fast as it can.
  bool ordered = false;
  // Ordered, and each thread waits, before each call, until the replay
  // has run as long as the recording had when the call was made: the
  // recorded gaps between a thread's calls are kept (idle spells
  // included). Needs a log with times and checks on.
  bool timed = false;
  // Points of the live-bytes/RSS/latency series: between this many and
  // twice as many, evenly spaced over the replay.
  std::uint32_t samples = 200;
  // Operations decoded at a time: the replayer holds this many in memory
  // (and the slot array), whatever the log's length.
  std::size_t chunk = std::size_t{1} << 20;
  // The weft-alloc-replayer to run; empty: replayer_program().
  std::string replayer;
};

struct Latency {  // nanoseconds
  std::uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

// A point of a replay's series: after `op` operations, `time_ns` into the
// replay (decoding excluded), and the latency of the calls made since the
// previous point (all calls together; 0 if none).
struct Sample {
  std::uint64_t op = 0;
  std::uint64_t live_bytes = 0;
  std::uint64_t rss_bytes = 0;
  std::uint64_t time_ns = 0;
  double p50_ns = 0;
  double p99_ns = 0;
};

struct ReplayResult {
  std::string allocator;  // as asked for: glibc, jemalloc, a path
  std::string mode;       // "fast", "ordered" or "timed"
  bool checked = true;
  std::uint32_t threads = 1;
  std::uint64_t operations = 0;
  std::uint64_t slots = 0;
  double seconds = 0;          // the replay loop, wall clock
  double call_seconds = 0;     // inside allocator calls (checked runs)
  std::uint64_t peak_rss = 0;  // bytes above the replayer's own
  std::uint64_t final_rss = 0;
  std::uint64_t peak_live = 0;  // requested bytes live at once
  std::uint64_t final_live = 0;
  // The largest RSS / live bytes among the series' points that have at
  // least a tenth of the peak of live bytes live (checked runs).
  double max_fragmentation = 0;
  // The whole replayer process's peak RSS (its own memory, the log's
  // window and the slot array included), from wait4 (replay_in_child).
  std::uint64_t process_peak_rss = 0;
  std::array<Latency, kAllocCallCount> latency{};
  std::vector<Sample> series;
  std::uint64_t error_count = 0;
  std::vector<std::string> errors;  // the first few, described
  std::string failure;              // the child died or could not run: why
  bool bad_input = false;  // the failure is the log's (damaged), not a crash
  // The child's, from wait4 (replay_in_child only): the whole child,
  // loading included.
  double user_seconds = 0;
  double sys_seconds = 0;
  std::uint64_t page_faults = 0;    // major
  std::uint64_t page_reclaims = 0;  // minor

  double ops_per_second() const {
    return seconds > 0 ? static_cast<double>(operations) / seconds : 0;
  }
  double fragmentation() const {
    return peak_live > 0
               ? static_cast<double>(peak_rss) / static_cast<double>(peak_live)
               : 0;
  }
  double end_fragmentation() const {
    return final_live > 0 ? static_cast<double>(final_rss) /
                                static_cast<double>(final_live)
                          : 0;
  }
  bool ok() const { return error_count == 0 && failure.empty(); }
};

// Where a replay's operations come from, a chunk at a time: the engine
// asks for the next chunk only when the previous one is done, with its
// clock and series paused.
class OpSource {
 public:
  virtual ~OpSource() = default;
  // The next operations, valid until the next call; empty at the end.
  // Throws traces::TraceError for a damaged log.
  virtual std::pair<const SlotRecord*, std::size_t> next() = 0;
  // Throws (traces::TraceError, for a file) that the slot array could not
  // grow to `slots` entries for the operation last returned that uses
  // the slot `slots` - 1.
  [[noreturn]] virtual void too_large(std::uint64_t slots);
};

// The operations of a slots log file, streamed: read_slots() in chunks of
// `options.chunk` operations, each copied into memory the allocator under
// test never sees. With options.timed, an operation without a time is
// refused (TraceError at its offset).
std::unique_ptr<OpSource> file_source(const std::string& path,
                                      const ReplayOptions& options);

// Replays every operation `source` gives.
ReplayResult replay_stream(OpSource& source, const ReplayOptions& options);

ReplayResult replay_here(const SlotLog& log, const ReplayOptions& options);
// The same on operations already in memory (`ops` must stay valid), in
// chunks of options.chunk; `slots` and `threads` as SlotLog computes them
// (the engine finds them as it goes; kept for callers).
ReplayResult replay_ops(const SlotRecord* ops, std::size_t n,
                        std::uint32_t slots, std::uint32_t threads,
                        const ReplayOptions& options);

// "glibc" -> "" (nothing to preload); jemalloc, mimalloc, tcmalloc -> the
// Debian library; anything else is taken as a path to a .so. Throws
// std::runtime_error if a named allocator's library is not installed.
std::string allocator_library(const std::string& allocator);

// Runs weft-alloc-replayer on `log_path` with the allocator preloaded and
// reads its result. Never throws for a misbehaving allocator: a crash or a
// bad exit is in `failure`.
ReplayResult replay_in_child(const std::string& log_path,
                             const std::string& allocator,
                             const ReplayOptions& options);

// Where weft-alloc-replayer is: $WEFT_ALLOC_REPLAYER, else beside the
// running program or in ../libexec/weft/ from it (an installed `weft`),
// else the build tree's.
std::string replayer_program();

std::string to_json(const ReplayResult& r);
ReplayResult from_json(const std::string& text);

void print_report(const ReplayResult& r, std::ostream& out);

// The child's main: `weft-alloc-replayer [--ordered] [--timed]
// [--no-check] [--samples N] [--chunk OPS] log`.
int replayer_main(int argc, char** argv);

}  // namespace weft::replay
