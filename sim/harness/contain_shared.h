// What a contained child leaves for its parent in shared memory: which
// schedule it runs, and, if it dies, how (a crash record with the choices
// of the dying schedule). A recording child also streams what its run's
// observer saw, so the parent can write the trace the child could not.
// Everything here is written by signal handlers: plain memory, no locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "sim/choice.h"
#include "sim/scheduler.h"

namespace weft::sim::internal {

struct CrashRecord {
  std::atomic<int> kind{0};  // 0: none; else FailureKind + 1
  int signal = 0;
  std::uint64_t fault_address = 0;
  std::uint64_t step = 0;
  std::uint32_t strand_id = kNoStrand;
  std::uint64_t time_ns = 0;
  char strand[128] = {};
  char activity[64] = {};           // the strand's last interposed call, if any
  std::uint64_t choices = 0;        // copied into Shared::choices()
  std::uint64_t total_choices = 0;  // made (more if the copy was cut)
};

// One record of the observer stream (see StreamObserver): a fixed head,
// then a Choice for a choice, then `text_len` bytes (a name, a detail).
struct StreamHead {
  std::uint8_t type = 0;  // 's'pawn, e'x'it, 'c'hoice, 'w'ake, 'e'vent, 'o'p
  std::uint8_t kind = 0;
  std::uint32_t a = 0;  // strand / waker / from
  std::uint32_t b = 0;  // parent / woken / to
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t value = 0;  // an event's from_step
  std::uint32_t text_len = 0;
};

struct Shared {
  std::atomic<std::uint64_t> started{0};  // schedules the child started
  std::uint64_t seed = 0;
  char strategy[64] = {};
  char environment[2048] = {};          // "" if it did not fit
  std::atomic<std::uint64_t> ticks{0};  // watchdog ticks, for the parent
  CrashRecord crash;
  std::uint64_t choice_capacity = 0;
  std::uint64_t stream_capacity = 0;  // 0: no stream
  std::atomic<std::uint64_t> stream_used{0};
  std::atomic<bool> stream_full{false};

  Choice* choices() { return reinterpret_cast<Choice*>(this + 1); }
  char* stream() {
    return reinterpret_cast<char*>(choices() + choice_capacity);
  }
};

// Maps a Shared for a schedule of at most `max_steps` steps, with a stream
// of `stream_bytes` (0: none). Unmaps on destruction.
class SharedMapping {
 public:
  SharedMapping(std::uint64_t max_steps, std::uint64_t stream_bytes);
  ~SharedMapping();
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  Shared* get() const { return shared_; }

 private:
  Shared* shared_ = nullptr;
  std::size_t size_ = 0;
};

// In the child, right after fork: installs the crash handlers (fatal
// signals on an alternate stack, the guard-page check, an exit hook) and
// the watchdog, all reporting into `shared`. watchdog_s = 0: no watchdog.
void become_contained_child(Shared* shared, std::uint64_t watchdog_s);

// Publishes which schedule the child runs (seed, strategy, its WEFT_*
// environment) so the parent can name it if the child dies.
void publish_schedule(Shared* shared, std::uint64_t seed,
                      const Strategy& strategy);

// A RunObserver (for the recording child) that appends everything it sees
// to shared->stream(); replay_stream() feeds it to another observer.
std::unique_ptr<RunObserver> make_stream_observer(Shared* shared);
void replay_stream(Shared* shared, RunObserver& to);

// Exit statuses a contained child uses for itself.
inline constexpr int kChildResultSent = 0;
inline constexpr int kChildHung = 86;

}  // namespace weft::sim::internal
