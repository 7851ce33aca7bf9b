// Barrier mirrors std::barrier's blocking calls (arrive_and_wait,
// arrive_and_drop) and CallOnce/OnceFlag mirror std::call_once, both built
// on weft::Mutex and weft::CondVar, so they are real outside a simulation
// and their choice points are those of the mutex and the condition
// variable inside one. The completion function runs on the last strand to
// arrive, before any waiter goes on, as std::barrier's does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "sim/internal/uninstrumented.h"
#include "sim/sync.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

struct NoCompletion {
  void operator()() noexcept {}
};

template <class Completion = NoCompletion>
class Barrier {
 public:
  explicit Barrier(std::ptrdiff_t expected, Completion completion = {},
                   std::string name = {})
      : m_(name),
        phase_cv_(name),
        expected_(expected),
        left_(expected),
        completion_(std::move(completion)) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Arrives and blocks until every expected participant of this phase has.
  void arrive_and_wait(SourceLocation where = SourceLocation::current()) {
    std::unique_lock lk(m_);
    const std::uint64_t phase = phase_;
    if (arrive_locked()) return;
    phase_cv_.wait(
        lk, [&] { return phase_ != phase; }, where);
  }
  // Arrives and leaves: later phases expect one participant fewer.
  void arrive_and_drop() {
    std::unique_lock lk(m_);
    --expected_;
    arrive_locked();
  }

 private:
  // True when this arrival completed the phase.
  bool arrive_locked() {
    if (--left_ > 0) return false;
    completion_();
    left_ = expected_;
    ++phase_;
    phase_cv_.notify_all();
    return true;
  }

  Mutex m_;
  CondVar phase_cv_;
  std::ptrdiff_t expected_;
  std::ptrdiff_t left_;
  std::uint64_t phase_ = 0;
  Completion completion_;
};

// std::once_flag's counterpart: the first caller of call_once runs the
// function; the others wait until it returned. If it throws, the flag is
// left unset and the next caller tries.
class OnceFlag {
 public:
  OnceFlag() = default;
  OnceFlag(const OnceFlag&) = delete;
  OnceFlag& operator=(const OnceFlag&) = delete;

 private:
  template <class F, class... Args>
  friend void call_once(OnceFlag& flag, F&& f, Args&&... args);
  Mutex m_{"once"};
  bool done_ = false;
};

template <class F, class... Args>
void call_once(OnceFlag& flag, F&& f, Args&&... args) {
  std::lock_guard lk(flag.m_);
  if (flag.done_) return;
  std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
  flag.done_ = true;
}

WEFT_HEADER_CODE_END
}  // namespace weft::sim
