// Strands as threads: spawn() starts one (a std::thread outside a
// simulation, a fiber inside, where the spawn is a choice point), join()
// waits for it (kJoin), yield_now() offers the scheduler a switch and, in a
// simulation, prefers another strand so spin loops make progress.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "sim/internal/uninstrumented.h"
#include "sim/scheduler.h"
#include "sim/source_location.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

// Owns a spawned strand or thread. Destroying a joinable handle detaches.
class JoinHandle {
 public:
  JoinHandle() = default;
  JoinHandle(JoinHandle&&) noexcept;
  JoinHandle& operator=(JoinHandle&&) noexcept;
  ~JoinHandle();

  void join(SourceLocation where = SourceLocation::current());
  bool joinable() const;
  void detach();

 private:
  friend JoinHandle spawn(std::string, std::function<void()>, SourceLocation);
  std::thread thread_;
  Scheduler* sched_ = nullptr;
  std::uint64_t run_id_ = 0;
  StrandId strand_ = kNoStrand;
  std::uint32_t flight_thread_ = 0;  // its number in a flight recording
};

// In a simulation the spawn is noted, with `where`, for the trace.
JoinHandle spawn(std::string name, std::function<void()> body,
                 SourceLocation where = SourceLocation::current());
inline JoinHandle spawn(std::function<void()> body,
                        SourceLocation where = SourceLocation::current()) {
  return spawn(std::string(), std::move(body), where);
}

// Inline: one frame less between the caller and the switch.
inline void yield_now() {
  if (Scheduler* s = Scheduler::current()) {
    s->choice_point(ChoiceKind::kYield);
    return;
  }
  std::this_thread::yield();
}

// The running strand's name ("main", a spawn name), or "" outside.
std::string current_strand_name();

WEFT_HEADER_CODE_END
}  // namespace weft::sim
