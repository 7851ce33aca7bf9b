// SyncObserver sees the synchronisation of every run as it happens, for an
// analysis that needs happens-before (the race detector of
// sim/instrument/): spawns, each operation a strand performs after its
// choice point, and each wake-up of a strand that waited to perform one.
// One observer per process, set once before any simulation runs; it is
// called from the scheduler's thread, so it keeps per-thread state.
#pragma once

#include <cstddef>

#include "sim/choice.h"

namespace weft::sim {

class SyncObserver {
 public:
  virtual ~SyncObserver() = default;
  // A new run starts: forget every strand and object of the last one.
  virtual void on_run_begin() = 0;
  // `child` was created by `parent` (kNoStrand for `main`), on the stack
  // [stack_bottom, stack_bottom + stack_size), which an earlier strand may
  // have used.
  virtual void on_spawn(StrandId parent, StrandId child,
                        const void* stack_bottom, std::size_t stack_size) = 0;
  // `strand` passed its choice point and performs `op` now (a lock, an
  // unlock, an atomic access, a join, ...). An operation that then blocks
  // is followed by on_woken when the strand may retry it.
  virtual void on_operation(StrandId strand, const PendingOp& op) = 0;
  // `strand`, blocked in `op`, was made runnable again.
  virtual void on_woken(StrandId strand, const PendingOp& op) = 0;
  // `strand`'s body starts, and returned (or threw): what the strand runs
  // outside the two is the scheduler's own code.
  virtual void on_body_begin(StrandId strand) = 0;
  virtual void on_body_end(StrandId strand) = 0;
};

}  // namespace weft::sim
