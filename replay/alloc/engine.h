// The state of one replay, shared by replay/alloc's engine files only
// (engine.cc runs the fast modes and the chunk loop, ordered.cc the
// ordered and timed modes), not an interface. Everything here lives in
// memory the allocator under test never sees (Mapped).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "replay/alloc/measure.h"
#include "replay/alloc/ops.h"
#include "replay/alloc/replay.h"

namespace weft::replay::internal {

struct Run {
  Run(OpSource& source, const ReplayOptions& options);

  // Takes the next chunk and grows the slot array and the per-thread
  // state to what it uses; false at the end. The caller has paused.
  bool next_chunk();
  // Grows the slot array to hold `slot` (paused).
  void fit_slot(std::uint32_t slot);
  // A replaying stretch begins or ends: the clock runs, or stops.
  void resume();
  void pause();
  // The bytes of the arrays above.
  std::uint64_t own_bytes() const;
  // Takes the RSS now as the replayer's own, its arrays as they are.
  void set_base();
  // RSS above the replayer's own (its mapped arrays included).
  std::uint64_t rss_above();
  // Adds a point to the series; true if its spacing should double.
  bool sample(std::uint64_t op, std::uint64_t live, bool last = false);
  State state() { return State{ptr.data(), size.data(), errors.get()}; }

  OpSource& source;
  const ReplayOptions& options;
  bool ordered;  // ordered or timed

  // The chunk being replayed: ops[0, n), the first being operation
  // `first` of the log.
  const SlotRecord* ops = nullptr;
  std::size_t n = 0;
  std::uint64_t first = 0;
  std::uint64_t total = 0;  // operations of the chunks taken so far

  std::uint32_t slots = 0;    // 1 + the largest slot seen
  std::uint32_t threads = 1;  // 1 + the largest thread (ordered), else 1
  Mapped<void*> ptr;
  Mapped<std::uint64_t> size;
  Mapped<Histograms> hist;  // one per thread
  std::unique_ptr<ErrorSink> errors;

  // Ordered: per slot, the operations planned and the ones done (a
  // block's next operation waits for its turn); per chunk, each
  // operation's turn and each thread's operations.
  Mapped<std::uint32_t> uses;
  Mapped<std::atomic<std::uint32_t>> slot_turn;
  Mapped<std::uint32_t> turn;
  Mapped<std::uint32_t> order;
  std::vector<std::size_t> starts;

  // Unchecked, fast: the loop's packed operations, and the slots live
  // at the chunk's start (read back after packing).
  Mapped<PackedOp> packed;
  Mapped<std::uint32_t> warm;

  // Live requested bytes (checked: as replayed; unchecked: as logged).
  std::uint64_t live = 0;
  std::uint64_t peak_live = 0;
  std::atomic<std::int64_t> shared_live{0};  // ordered, checked
  std::atomic<std::int64_t> shared_peak{0};

  ReplayClock clock;
  Series series;
  std::mutex series_mu;  // held by the main thread while paused
  std::uint64_t base_rss = 0;
  std::uint64_t own_at_base = 0;
  std::uint64_t max_rss_above = 0;
  // Timed: the first operation's recorded time.
  std::uint64_t time0 = 0;
  bool have_time0 = false;

  double seconds = 0;  // replaying, decoding excluded
  std::uint64_t run_ticks = 0;

 private:
  void grow(std::uint32_t need_slots, std::uint32_t need_threads);
  std::chrono::steady_clock::time_point t0_;
  std::uint64_t tick0_ = 0;
};

// The ordered and timed modes (ordered.cc): every chunk from the current
// one on, one thread per recorded thread.
void run_ordered(Run& run);

// Unchecked: the log's live bytes over the current chunk (and the fast
// loop's packed operations), growing the slot array as it goes.
void prepare_unchecked(Run& run);

// The slots of the current chunk, planned: each operation's turn on its
// slot and each thread's operations in order.
void plan_order(Run& run);

}  // namespace weft::replay::internal
