// The allocator replayer: drives an allocator through a slots log from a
// static slot array (no hash table in the hot loop), fills every block with
// a slot-specific pattern when it is allocated and checks it at free and
// realloc, checks calloc memory for zeros and every result for alignment,
// and measures speed, per-call latency percentiles, peak and final RSS,
// peak live requested bytes and fragmentation. replay_here() runs in the
// calling process against whatever malloc it has; replay_in_child() runs
// the weft-alloc-replayer program with the allocator preloaded, one child
// per allocator. The slot array and the operations are allocated with mmap
// before measuring starts (so a broken allocator cannot hand out the
// replayer's own memory) and are subtracted from every RSS figure.
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
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
  std::uint32_t samples = 200;  // points of the live-bytes/RSS series
  // The weft-alloc-replayer to run; empty: replayer_program().
  std::string replayer;
};

struct Latency {  // nanoseconds
  std::uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

struct Sample {
  std::uint64_t op = 0;
  std::uint64_t live_bytes = 0;
  std::uint64_t rss_bytes = 0;
};

struct ReplayResult {
  std::string allocator;  // as asked for: glibc, jemalloc, a path
  std::string mode;       // "fast" or "ordered"
  bool checked = true;
  std::uint32_t threads = 1;
  std::uint64_t operations = 0;
  std::uint64_t slots = 0;
  double seconds = 0;          // the replay loop, wall clock
  double call_seconds = 0;     // inside allocator calls (checked runs)
  std::uint64_t peak_rss = 0;  // bytes above the replayer's own
  std::uint64_t final_rss = 0;
  std::uint64_t peak_live = 0;  // requested bytes live at once
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
  bool ok() const { return error_count == 0 && failure.empty(); }
};

ReplayResult replay_here(const SlotLog& log, const ReplayOptions& options);
// The same on operations already in memory (`ops` must stay valid);
// `slots` and `threads` as SlotLog computes them.
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

// The child's main: `weft-alloc-replayer [--ordered] [--no-check] log`.
int replayer_main(int argc, char** argv);

}  // namespace weft::replay
