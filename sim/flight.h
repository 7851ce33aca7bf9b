// The engine's half of flight recording (docs/architecture.md, "Recording
// real threads"). On real threads, while a recorder is attached, each
// primitive logs what it did to the calling thread's own ring in an arena
// (no lock, no allocation): the object, the object's version (how many
// writes it had before) and a value. Inside a simulation, a replay attaches
// ReplayHooks to the scheduler and the primitives report each operation as
// it completes, so the replay can check it against the recording and hand
// back the recorded value (a clock reading, a wait's outcome). Nothing here
// touches files: the harness (sim/harness/flight) owns the arena and writes
// it out.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace weft::sim::flight {

// Numbered as traces::FlightOp (sim/harness/flight checks it).
enum class Op : std::uint8_t {
  kSpawn = 0,
  kJoin = 1,
  kLock = 2,
  kCvWait = 3,
  kAcquire = 4,
  kRelease = 5,
  kLatchWait = 6,
  kAtomicRead = 7,
  kAtomicWrite = 8,
  kClock = 9,
  kTryFail = 10,      // a try_lock or try_acquire that failed (a read)
  kTimerArm = 11,     // call_after: value: the deadline (ns, as kClock's)
  kTimerFire = 12,    // the timer thread starts a callback; value: its arm's
                      // version of the timer service
  kTimerCancel = 13,  // Timer::cancel; value: arm version * 2 + cancelled
};

// One logged operation: 32 bytes, written by its thread alone.
struct Event {
  std::uint64_t object;
  std::uint64_t version;
  std::uint64_t value;
  std::uint32_t thread;
  Op op;
  std::uint8_t pad[3];
};
static_assert(sizeof(Event) == 32);

// One thread's ring: `head` counts the events the thread wrote (the last
// `capacity` of them are kept when the ring wraps); a reader takes the
// events below head. `thread` is the recorded thread's number. 64 bytes
// each: the thread stores its head at every event, and two threads' heads
// on one cache line would pass it back and forth at every event.
struct Slot {
  std::atomic<std::uint64_t> head;
  std::atomic<std::uint32_t> thread;
  std::atomic<std::uint32_t> full;  // events refused: no wrap and no room
  std::uint8_t pad[48];
};
static_assert(sizeof(Slot) == 64);

// The arena's header, at its start (64 bytes: in a page-aligned mapping
// each Slot is a cache line); then `slots` Slots; then the events,
// `capacity` per slot. Lives in memory the harness maps (shared with a
// supervising parent), so it holds no pointers.
struct Arena {
  std::uint32_t magic;
  std::uint32_t slots;
  std::uint64_t capacity;  // events per slot
  std::uint32_t wrap;      // 1: rings keep the newest events
  std::atomic<std::uint32_t> slots_used;
  std::atomic<std::uint32_t> next_thread;
  std::atomic<std::uint32_t> lost_threads;  // threads that found no slot
  std::atomic<std::uint64_t> next_object;   // unused: ids are process-wide
  std::uint8_t pad[24];

  Slot* slot(std::uint32_t i) {
    return reinterpret_cast<Slot*>(reinterpret_cast<char*>(this) +
                                   sizeof(Arena)) +
           i;
  }
  Event* events(std::uint32_t i) {
    return reinterpret_cast<Event*>(reinterpret_cast<char*>(slot(slots))) +
           i * capacity;
  }
  static std::size_t bytes_for(std::uint32_t slots, std::uint64_t capacity) {
    return sizeof(Arena) + slots * sizeof(Slot) +
           slots * capacity * sizeof(Event);
  }
};
static_assert(sizeof(Arena) == 64);
inline constexpr std::uint32_t kArenaMagic = 0x57464c54;  // "WFLT"

// Formats `memory` (Arena::bytes_for(slots, capacity) bytes) and starts
// recording into it; the calling thread is thread 0. Not while another
// arena is attached. Attaching again starts an empty recording (a thread
// claims a ring at its first operation and keeps it: a process that
// starts more threads than rings records the first ones only).
void attach(void* memory, std::uint32_t slots, std::uint64_t capacity,
            bool wrap);
// Stops recording (threads still running stop logging).
void detach();

inline std::atomic<Arena*> g_arena{nullptr};
// Whether real threads log now: one relaxed load.
inline bool on() { return g_arena.load(std::memory_order_relaxed) != nullptr; }

// Logs one operation of the calling thread. Call only when on().
void record(Op op, std::uint64_t object, std::uint64_t version,
            std::uint64_t value = 0);
// Logs an Atomic's read or write (`object` its id, named here if it has no
// id yet: out of line, so that what an Atomic inlines stays small; `left`
// the version the operation left it at) and remembers it as the thread's
// newest event, which the thread's next reads of the same object at the
// same version, and (a write's) its next writes of it with no other write
// between, are counted in (coalesce(), coalesce_write()).
class ObjectId;
void record_atomic(Op op, const ObjectId& object, std::uint64_t version,
                   std::uint64_t left);

// An Atomic event's value: what its thread did next to the same object
// with no other thread's write between, counted instead of logged (a
// run). `trailing` reads of the version the event left (bits 0..19); for
// a write event, `writes` more writes (bits 40..63), each after `reads`
// reads of the version before it (bits 20..39), the trailing reads then
// coming after the last of them. A count at its maximum ends the run (the
// next operation is logged). traces/flight_records.h decodes the same.
struct AtomicRun {
  std::uint64_t trailing = 0;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
};
inline constexpr std::uint64_t kRunReadsMax = (std::uint64_t{1} << 20) - 1;
inline constexpr std::uint64_t kRunWritesMax = (std::uint64_t{1} << 24) - 1;
inline constexpr std::uint64_t kRunOneWrite = std::uint64_t{1} << 40;
inline constexpr AtomicRun decode_run(std::uint64_t value) {
  return {value & kRunReadsMax, (value >> 20) & kRunReadsMax, value >> 40};
}
inline constexpr std::uint64_t encode_run(const AtomicRun& r) {
  return r.trailing | r.reads << 20 | r.writes << 40;
}

// The recording's generation (bumped by attach()) in bits 32..63, modulo
// 2^32: a thread's remembered event belongs to the recording of its
// generation only (bits 0..30 are left for a version: the two are
// compared as one word).
inline std::atomic<std::uint64_t> g_generation{0};
// The calling thread's newest event when it is an Atomic's read or write:
// what an operation compares to join its run is two words, the object's
// id (ids are never reused within a process) and `key`, the version the
// run left the object at with the generation in bits 32..63 (kNoRun:
// none: bit 31, never set in a version, is). `step` is what a counted
// write adds to the value (AtomicRun): (1 << 40) - reads once the run
// counts writes, which leaves the trailing reads at 0 exactly when they
// were as many as before each earlier write; kFirstWrite before (a write
// event: the first counted write sets reads to the trailing reads), and
// kReadEvent for a read event (no write joins it: the sum's writes stay 0).
inline constexpr std::uint64_t kNoRun = ~std::uint64_t{0};
inline constexpr std::uint64_t kFirstWrite = 0;
inline constexpr std::uint64_t kReadEvent = 1;
struct LastAtomic {
  std::uint64_t id = 0;
  std::uint64_t key = kNoRun;
  std::uint64_t value = 0;  // the event's value, as last stored
  std::uint64_t step = kReadEvent;
  Event* event = nullptr;
};
// (initial-exec: as sim/flight.cc's ring, an access is one load in
// position-independent code too.)
__attribute__((tls_model(
    "initial-exec"))) inline constinit thread_local LastAtomic t_last_atomic;

// (In coalesce() and coalesce_write() a version is taken modulo 2^31,
// kVersionMask, as the replay compares them.)
// A read of the Atomic `id` at `version`: when the thread's newest event
// is an operation on the same object that left it at that version (no
// write came between), the read is counted in that event's value instead
// of logged, and true is returned. The replay does the counted reads right
// after the event, and a later write waits for them as for logged reads
// (docs/architecture.md, "Recording real threads").
inline bool coalesce(std::uint64_t id, std::uint64_t version) {
  LastAtomic& l = t_last_atomic;
  if (l.id != id ||
      l.key != (version | g_generation.load(std::memory_order_relaxed)))
      [[unlikely]]
    return false;
  const std::uint64_t value = l.value + 1;
  if ((value & kRunReadsMax) == 0) [[unlikely]]
    return false;  // the trailing reads were at their maximum
  l.value = value;
  std::atomic_ref<std::uint64_t>(l.event->value)
      .store(value, std::memory_order_relaxed);
  return true;
}
// The first write counted in a write event (out of line: once a run).
bool coalesce_first_write(LastAtomic& l, std::uint64_t key);
// A write of the Atomic `id` at `version`, leaving it at `left`: when the
// thread's newest event is a write of the same object that (with what is
// counted in it) left it at `version`, and the reads since its last write
// are as many as before each earlier one, the write is counted in the
// event too (AtomicRun) and true is returned. The replay does it in its
// place, as if logged.
inline bool coalesce_write(std::uint64_t id, std::uint64_t version,
                           std::uint64_t left) {
  LastAtomic& l = t_last_atomic;
  const std::uint64_t generation = g_generation.load(std::memory_order_relaxed);
  if (l.id != id || l.key != (version | generation)) [[unlikely]]
    return false;
  // The trailing reads as many as each earlier write's (low bits 0 after
  // the step) and the writes below their maximum (no carry out of bit 63).
  const std::uint64_t value = l.value + l.step;
  if ((value & kRunReadsMax) != 0 || value < kRunOneWrite) [[unlikely]]
    return coalesce_first_write(l, left | generation);
  l.value = value;
  std::atomic_ref<std::uint64_t>(l.event->value)
      .store(value, std::memory_order_relaxed);
  l.key = left | generation;
  return true;
}
// A number for a thread about to be spawned; the spawner logs kSpawn with
// it and the new thread calls bind_thread() with it first.
std::uint32_t new_thread();
void bind_thread(std::uint32_t thread);

// A recorded version is the object's number of writes modulo 2^31 (an
// Atomic of up to 32 bits keeps it in 31 bits of its value's word,
// sim/atomic_cell.h); the replay compares versions modulo 2^31 too.
inline constexpr std::uint64_t kVersionMask = 0x7fffffff;

// An object's recorded id: handed out at its first recorded operation from
// a process-wide counter, so an id names one object in the process (an
// object recorded before a later attach() keeps its id, and no other
// object gets it: a thread's run is matched to its object by id alone).
class ObjectId {
 public:
  constexpr ObjectId() = default;
  std::uint64_t get() const {
    const std::uint64_t id = id_.load(std::memory_order_acquire);
    return id != 0 ? id : assign();
  }
  // The id, 0 before get() handed one out (which no run's id is).
  std::uint64_t peek() const { return id_.load(std::memory_order_acquire); }

 private:
  std::uint64_t assign() const;
  mutable std::atomic<std::uint64_t> id_{0};
};

// Per-object recording state, one per primitive: its id, and a word that
// counts its writes (bits 1..63) with a lock bit (bit 0) that makes a
// write and its version one step (a semaphore's, an Atomic of more than
// 32 bits). A mutex's writes are counted under the mutex.
class ObjectTag {
 public:
  constexpr ObjectTag() = default;
  std::uint64_t id() const { return id_.get(); }
  // A write done under the object's own exclusion (a held mutex): logs it
  // with the next version, which it returns.
  std::uint64_t exclusive_write(Op op, std::uint64_t value = 0);
  // Runs `f` as a write that no other recorded write or read of this
  // object overlaps, and logs it (after letting the object go: the version
  // was fixed under the lock bit, and the log is the thread's own).
  template <class F>
  auto write(Op op, F&& f) const {
    const std::uint64_t w = lock();
    auto r = f();
    word_.store(w + 2, std::memory_order_release);
    if (op != Op::kAtomicWrite)
      record(op, id(), w >> 1);
    else if (!coalesce_write(id(), (w >> 1) & kVersionMask,
                             ((w >> 1) + 1) & kVersionMask))
      record_atomic(op, id_, w >> 1, ((w >> 1) + 1) & kVersionMask);
    return r;
  }
  // Runs `f` as a read of the object between two writes, and logs which
  // (retrying if a write overlapped it).
  template <class F>
  auto read(Op op, F&& f) const {
    for (;;) {
      const std::uint64_t w = word_.load(std::memory_order_acquire);
      if (w & 1) continue;
      auto r = f();
      if (word_.load(std::memory_order_acquire) != w) continue;
      if (op != Op::kAtomicRead)
        record(op, id(), w >> 1);
      else if (!coalesce(id(), (w >> 1) & kVersionMask))
        record_atomic(op, id_, w >> 1, (w >> 1) & kVersionMask);
      return r;
    }
  }
  // The number of writes so far (a read's version).
  std::uint64_t writes() const {
    return word_.load(std::memory_order_acquire) >> 1;
  }

 private:
  std::uint64_t lock() const;
  ObjectId id_;
  mutable std::atomic<std::uint64_t> word_{0};
};

// What a replay attaches to the scheduler (Scheduler::set_replay_hooks):
// each recorded kind of operation, done by the running strand in a
// simulation, is reported once it completed, with the object (by address)
// and the value the simulation has (a strand id for kSpawn and kJoin, the
// virtual time for kClock). The answer is the recorded value (the reading
// for kClock, 1 for a wait that timed out), or `value` when the recording
// has nothing to say. A mismatch fails the run there.
class ReplayHooks {
 public:
  virtual ~ReplayHooks() = default;
  virtual std::uint64_t on_op(Op op, const void* object,
                              std::uint64_t value) = 0;
  // Whether the running strand's next recorded operation is `op`: a wait
  // on a condition variable (which then returns at once, as recorded), a
  // try_lock or try_acquire that failed (which then fails: std::mutex's
  // may fail spuriously), a timer's firing (the timer strand asks).
  virtual bool next_is(Op op) = 0;
};

}  // namespace weft::sim::flight
