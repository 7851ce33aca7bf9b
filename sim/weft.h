// The user-facing facade: weft::Mutex beside std::mutex, weft::spawn beside
// std::thread, and so on. Each works on real threads outside a simulation
// and as a choice point of the scheduler inside one.
#pragma once

#include "sim/atomic.h"
#include "sim/barrier.h"
#include "sim/check.h"
#include "sim/choose.h"
#include "sim/clock.h"
#include "sim/harness/explore.h"
#include "sim/memory_worker.h"
#include "sim/shared_mutex.h"
#include "sim/sync.h"
#include "sim/thread.h"

namespace weft {
using sim::AlreadyQuit;
using sim::Atomic;
using sim::Barrier;
using sim::call_after;
using sim::call_once;
using sim::choose;
using sim::Clock;
using sim::CondVar;
using sim::explore;
using sim::ExploreOptions;
using sim::ExploreResult;
using sim::JoinHandle;
using sim::Latch;
using sim::MemoryWorker;
using sim::Mutex;
using sim::OnceFlag;
using sim::random_bool;
using sim::Semaphore;
using sim::SharedMutex;
using sim::sleep_for;
using sim::sleep_until;
using sim::spawn;
using sim::Timer;
using sim::Worker;
using sim::yield_now;
}  // namespace weft
