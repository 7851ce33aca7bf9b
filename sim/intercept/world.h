// The side table of sim/intercept: what each pthread object the program
// touches is inside the running simulation, found by the object's address
// (a lookup only: nothing iterates it to decide anything) and numbered in
// order of first use, as weft's own primitives are. It is rebuilt for each
// run, so a run never sees another's lock owners or waiters. Internal.
#pragma once

#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/intercept/intercept.h"
#include "sim/scheduler.h"
#include "sim/sync.h"

namespace weft::intercept::internal {

using sim::Nanos;
using sim::Scheduler;
using sim::StrandId;

// One pthread object in the simulation: its kind, number, and the strands
// waiting on it.
struct Object : sim::Waitable {
  enum class Kind : std::uint8_t {
    kMutex,
    kCond,
    kRwlock,
    kSem,
    kBarrier,
    kOnce,
    kSpin,
    kFutex,
    kSignals
  };
  Kind kind = Kind::kMutex;
  std::uint32_t id = 0;
  sim::WaitQueue waiters;
  // Mutex, spin lock and rwlock writer: the owner; rwlock: readers too.
  StrandId owner = sim::kNoStrand;
  std::uint32_t depth = 0;  // recursive mutex: times locked
  int type = 0;             // mutex: PTHREAD_MUTEX_NORMAL/RECURSIVE/ERRORCHECK
  std::vector<StrandId> readers;
  std::uint64_t count = 0;  // semaphore value, barrier arrivals
  std::uint64_t limit = 0;  // barrier: arrivals that release it
  std::uint64_t round = 0;  // barrier: rounds completed; once: 0/1/2
  bool monotonic = false;   // condvar: timed waits on CLOCK_MONOTONIC
  std::string describe() const override;
};

// Threads the program created in this run, by strand id.
struct Thread {
  bool is_thread = false;  // created by pthread_create (or the main strand)
  bool detached = false;
  bool joined = false;
  void* result = nullptr;
  // pthread_setspecific values of this strand, in the order first set
  // (strands share one OS thread, so the real values would be shared).
  std::vector<std::pair<pthread_key_t, void*>> specific;
  // The program's code that made the interposed call this strand is in
  // (its return address; Call keeps it), for the reports of its waits.
  const void* caller = nullptr;
  // While the strand waits in futex(FUTEX_WAIT_BITSET): its bit mask
  // (a plain FUTEX_WAIT's is every bit).
  std::uint32_t futex_mask = ~0U;
};

// A pthread key created on a strand: simulated, numbered from kFirstKey
// in order of creation, so no real key (glibc's are below 1024) is one.
struct Key {
  void (*destructor)(void*) = nullptr;
  bool live = true;
};
inline constexpr pthread_key_t kFirstKey = 0x5745'0000;  // "WE"
inline constexpr std::size_t kMaxKeys = 1024;

class World {
 public:
  // The objects of scheduler `s`'s current run (a new table per run).
  static World& of(Scheduler& s);
  // The object at `address`, created on first use by `init` (which reads
  // the real object's initial state: mutex type, semaphore value, ...).
  template <class Init>
  Object& object(const void* address, Object::Kind kind, Init init) {
    auto it = objects_.find(address);
    if (it != objects_.end() && it->second->kind == kind) return *it->second;
    auto o = std::make_unique<Object>();
    o->kind = kind;
    o->id = ++ids_;
    init(*o);
    Object& ref = *o;
    objects_[address] = std::move(o);
    return ref;
  }
  // Forgets the object at `address` (it was initialised or destroyed).
  void forget(const void* address) { objects_.erase(address); }
  Thread& thread(StrandId id) {
    if (threads_.size() <= id) threads_.resize(id + 1);
    return threads_[id];
  }
  // One past the highest strand id thread() has seen.
  std::size_t thread_slots() const { return threads_.size(); }
  std::uint32_t next_thread_number() { return ++thread_numbers_; }
  // Keys created on strands in this run (index: key - kFirstKey).
  std::vector<Key>& keys() { return keys_; }

 private:
  const Scheduler* sched_ = nullptr;
  std::uint64_t run_ = 0;
  std::unordered_map<const void*, std::unique_ptr<Object>> objects_;
  std::uint32_t ids_ = 0;
  std::vector<Thread> threads_;
  std::uint32_t thread_numbers_ = 0;
  std::vector<Key> keys_;
};

// At the end of a pthread thread's strand: calls the destructors of its
// non-null pthread_setspecific values, as a real thread's exit does.
void run_key_destructors(Scheduler& s);

// Keeps the strand's errno across a call that may switch strands (strands
// share the OS thread's errno), and tells the watchdog what it does.
// `caller` is the exported function's return address (WEFT_CALLER), the
// strand's caller() until the call returns (a call nested in it, as
// pthread_once's init makes, has its own).
class Call {
 public:
  Call(Scheduler& s, const char* what, const void* caller)
      : s_(s), what_(what), saved_(errno) {
    s.set_activity(what);
    const void*& slot = World::of(s).thread(s.current_strand()).caller;
    caller_ = slot;
    slot = caller;
  }
  ~Call() {
    if (s_.tearing_down()) {
      // The program's frames above are not unwound: C frames cannot be,
      // and the standard library's noexcept ones would terminate.
      if (TeardownHook hook = teardown_hook()) hook(s_);
      s_.park_torn_down_strand();
    } else {
      s_.set_activity(what_);
    }
    World::of(s_).thread(s_.current_strand()).caller = caller_;
    errno = saved_;
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  // Sets the errno the caller sees on return.
  void set_errno(int e) { saved_ = e; }

 private:
  Scheduler& s_;
  const char* what_;
  int saved_;
  const void* caller_ = nullptr;  // the enclosing call's, put back on return
};

// In an exported interposed function: where the program called it.
#define WEFT_CALLER __builtin_return_address(0)

// Where the running strand's interposed call was made, for a report
// ("forward+0x1d in prog+0x11b5", sim/intercept/code_address.h).
sim::SourceLocation caller(Scheduler& s);

// The pending operation of an interposed call's choice point.
inline sim::PendingOp op(sim::ChoiceKind kind, const void* object,
                         sim::Access access = sim::Access::kWrite,
                         const void* object2 = nullptr) {
  return sim::PendingOp{kind, access, object, object2, sim::kNoStrand};
}

// Thread handles of strands (pthread_create, pthread_self on a strand): a
// tag no real pthread_t (a pointer) carries, and the strand id.
constexpr std::uint64_t kHandleTag = 0x5745'4654'0000'0000ULL;  // "WEFT"
constexpr std::uint64_t kHandleMask = 0xffff'ffff'0000'0000ULL;

inline pthread_t handle_of(StrandId id) {
  return static_cast<pthread_t>(kHandleTag | id);
}

// The strand of a handle, or kNoStrand if it is not one of ours.
inline StrandId strand_of(pthread_t t) {
  const auto v = static_cast<std::uint64_t>(t);
  if ((v & kHandleMask) != kHandleTag) return sim::kNoStrand;
  return static_cast<StrandId>(v & ~kHandleMask);
}

// Virtual time from an absolute timespec on `clock`, and back.
Nanos virtual_deadline(clockid_t clock, const timespec& abs);
timespec to_timespec(clockid_t clock, Nanos virtual_time);
bool is_monotonic(clockid_t clock);

// Fails the schedule with an assertion naming the misuse and stops the
// strand (a C program's undefined behaviour: unlocking a mutex it does not
// hold, relocking a normal mutex).
[[noreturn]] void misuse(Scheduler& s, const std::string& what);

// Locks a mutex object for the running strand, blocking while another
// holds it; the choice point has been made. 0, or an error number.
int acquire_mutex(Scheduler& s, Object& m, const Nanos* deadline);
// Releases it fully (for a condition wait); returns the depth it had.
std::uint32_t release_mutex_for_wait(Scheduler& s, Object& m);
// The mutex object at `m`, its type read from the real object.
Object& mutex_object(Scheduler& s, pthread_mutex_t* m);

}  // namespace weft::intercept::internal
