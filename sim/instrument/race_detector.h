// The happens-before race detector over a simulated run. Vector clocks
// follow weft's synchronisation as the scheduler reports it (SyncObserver:
// spawn, lock/unlock, semaphores, latches, condition variables' mutex
// hand-over, join, atomics as sequentially consistent: every atomic write
// releases and every atomic access acquires), and a shadow of each 8-byte
// word remembers its last accesses. A plain access that conflicts with one
// no synchronisation orders before it fails the schedule as a data race,
// naming both accesses' strands, stacks, steps and virtual times. State is
// per thread (a scheduler runs on one) and reset at each run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/scheduler.h"

namespace weft::sim::instrument {

class VectorClock {
 public:
  std::uint32_t get(StrandId i) const { return i < c_.size() ? c_[i] : 0; }
  void set(StrandId i, std::uint32_t v);
  void join(const VectorClock& other);
  void clear() { c_.clear(); }

 private:
  std::vector<std::uint32_t> c_;
};

class RaceDetector {
 public:
  // The running thread's detector.
  static RaceDetector& local();

  // SyncObserver's events (see sim/sync_observer.h).
  void run_begin();
  void spawn(StrandId parent, StrandId child, const void* stack_bottom,
             std::size_t stack_size);
  void operation(StrandId strand, const PendingOp& op);
  void woken(StrandId strand, const PendingOp& op);
  // Manual annotations (__tsan_acquire / __tsan_release).
  void acquire(StrandId strand, const void* object);
  void release(StrandId strand, const void* object);

  void body_begin(StrandId strand);
  void body_end(StrandId strand);

  // The call stack, from __tsan_func_entry / __tsan_func_exit. A call from
  // weft's own code (`from_weft`) into an instrumented function, other than
  // the start of the strand's body, is weft using a shared inline copy:
  // everything under it is internal.
  void func_entry(StrandId strand, std::uintptr_t caller_pc, bool from_weft);
  void func_exit(StrandId strand);
  // Whether the strand runs weft's own code (see func_entry): its hooks
  // then do the plain operation and nothing else.
  bool internal(StrandId strand) const {
    return strand >= strands_.size() || strands_[strand].internal != 0;
  }

  // Whether a plain access at `addr` by `strand` is to be a choice point
  // first (Options::plain_choice_points, and the location seen shared).
  bool wants_choice_point(StrandId strand, std::uintptr_t addr);
  // A plain access of `size` bytes at `addr` by the running strand, made at
  // `pc`; may fail the run with a data race.
  void access(Scheduler& s, std::uintptr_t addr, std::size_t size, bool write,
              std::uintptr_t pc);
  // Memory given back (operator delete): its history is forgotten.
  void forget(std::uintptr_t addr, std::size_t size);

 private:
  struct Record {  // one access remembered in a word's shadow
    StrandId strand;
    std::uint32_t epoch;
    std::uint32_t stack;  // call-stack node
    std::uint8_t mask;    // bytes of the word touched
    bool write;
    std::uint16_t size;
    std::uintptr_t pc;
    std::uint64_t step;
    Nanos time;
  };
  struct Cell {
    std::vector<Record> records;
    StrandId first = kNoStrand;  // the first strand to touch it
    bool shared = false;         // touched by two strands
  };
  struct Strand {
    VectorClock clock;
    std::uint32_t stack = 0;     // its call-stack node
    std::uint32_t depth = 0;     // instrumented frames of the program
    std::uint32_t internal = 0;  // frames under a call from weft's code
    bool in_body = false;
    std::uintptr_t stack_lo = 0, stack_hi = 0;
  };
  struct Frame {
    std::uint32_t parent;
    std::uintptr_t pc;
  };

  Strand& strand(StrandId id);
  void acquire_object(StrandId s, const void* object);
  // The acquiring half of a lock, an acquire, a latch's wait or a join;
  // false for every other operation.
  bool acquiring_half(StrandId s, const PendingOp& op);
  void release_object(StrandId s, const void* object);
  void join_strand(StrandId s, StrandId joined);
  bool check_word(Scheduler& s, std::uintptr_t word, std::uint8_t mask,
                  const Record& now, std::uintptr_t addr);
  void record(Cell& cell, const Record& now);
  std::vector<std::uintptr_t> stack_of(const Record& r) const;
  std::string describe_location(std::uintptr_t addr, const Scheduler& s) const;
  void report(Scheduler& s, const Record& now, const Record& before,
              std::uintptr_t addr);

  std::vector<Strand> strands_;
  std::unordered_map<const void*, VectorClock> sync_;
  std::unordered_map<std::uintptr_t, Cell> shadow_;
  std::vector<std::uintptr_t> stacks_used_;  // stack bottoms this run
  // Call stacks as a tree of (caller node, return address).
  std::vector<Frame> frames_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> children_;
  bool reported_ = false;
};

}  // namespace weft::sim::instrument
