// Workers as in Twisted's threading model. A Worker accepts work with
// submit() until quit(); afterwards both throw AlreadyQuit. MemoryWorker
// only queues: the caller runs one item with perform(). It is the primitive
// the simulation of worker pools rests on: which of several memory workers
// performs next is a choice of the scheduler (perform_next). Not
// thread-safe: one driver at a time, as in Twisted.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <span>
#include <stdexcept>

#include "sim/internal/uninstrumented.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

class AlreadyQuit : public std::logic_error {
 public:
  AlreadyQuit() : std::logic_error("the worker has already quit") {}
};

class Worker {
 public:
  virtual ~Worker() = default;
  virtual void submit(std::function<void()> work) = 0;
  virtual void quit() = 0;
};

class MemoryWorker final : public Worker {
 public:
  void submit(std::function<void()> work) override;
  void quit() override;
  // Runs the oldest queued item; false if there was none.
  bool perform();
  std::size_t pending() const { return queue_.size(); }
  bool has_quit() const { return quit_; }

 private:
  std::deque<std::function<void()>> queue_;
  bool quit_ = false;
};

// Performs one item on one of `workers` that has work: the scheduler
// chooses which (kWork) in a simulation; outside, the first. False if none
// had work.
bool perform_next(std::span<MemoryWorker* const> workers);

WEFT_HEADER_CODE_END
}  // namespace weft::sim
