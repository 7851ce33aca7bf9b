// Workers as in Twisted's threading model (twisted._threads): a Worker
// accepts work with submit() until quit(), after which both throw
// AlreadyQuit. ThreadWorker runs work on one dedicated strand, LockWorker
// on the caller's own strand while holding a lock, and Team is a pool that
// grows to a maximum and shrinks when idle. Built only on sim/ primitives:
// on real threads each strand is a std::thread; inside explore() it is a
// fiber and every hand-off is a choice point of the scheduler.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/internal/strand_identity.h"
#include "sim/memory_worker.h"
#include "sim/sync.h"
#include "sim/thread.h"

namespace weft::runtime {

using sim::AlreadyQuit;
using sim::MemoryWorker;
using sim::Worker;
using Work = std::function<void()>;

// Runs work in submission order on one strand it owns. quit() lets the
// queued work finish; the destructor quits (if needed) and joins (never
// throwing: a deadlock found while it waits is reported like any other).
// submit() and quit() may be called from any strand.
class ThreadWorker final : public Worker {
 public:
  explicit ThreadWorker(std::string name = "worker");
  ~ThreadWorker() override;
  ThreadWorker(const ThreadWorker&) = delete;
  ThreadWorker& operator=(const ThreadWorker&) = delete;

  void submit(Work work) override;
  void quit() override;
  // Waits until the strand has run everything queued before quit().
  void join();

 private:
  sim::Mutex mu_;
  sim::CondVar ready_;
  std::deque<Work> queue_;
  bool quit_ = false;
  sim::JoinHandle strand_;
};

// Runs work at once on the submitting strand while holding `lock`, so
// work given to one LockWorker is exclusive. Work submitted from inside
// work (re-entrantly) is queued and run when the outer item returns,
// never nested. Twisted uses it for work that must not run concurrently
// with itself, without a thread of its own.
class LockWorker final : public Worker {
 public:
  explicit LockWorker(sim::Mutex& lock) : lock_(lock) {}
  void submit(Work work) override;
  void quit() override;

 private:
  sim::Mutex& lock_;
  std::deque<Work> pending_;
  bool running_ = false;
  internal::StrandIdentity owner_;  // who runs work now, if running_
  bool quit_ = false;
  sim::Mutex state_{"lock-worker-state"};
};

// What a Team is doing: workers running work, workers waiting for work,
// and work waiting for a worker.
struct TeamStatistics {
  std::size_t busy = 0;
  std::size_t idle = 0;
  std::size_t backlog = 0;
};

// A pool of worker strands. submit() hands work to an idle worker, or
// starts a new one while fewer than max_workers exist, or else queues it
// (the backlog). min_workers are started at once and always kept (Twisted's
// minthreads); a worker beyond them idle for idle_timeout (virtual time in
// a simulation) exits, so the team shrinks back to min_workers when work
// stops. quit() lets the backlog drain; join() waits for every worker to
// exit.
class Team final : public Worker {
 public:
  struct Options {
    std::size_t max_workers = 10;
    std::string name = "pool";
    sim::Clock::duration idle_timeout = std::chrono::seconds(1);
    std::size_t min_workers = 0;
  };
  // Throws std::invalid_argument if min_workers > max_workers.
  explicit Team(Options options);
  ~Team() override;
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  void submit(Work work) override;
  void quit() override;
  void join();
  TeamStatistics statistics();
  // Changes the maximum (never below min_workers); takes effect for the
  // next submit() (extra workers exit as they go idle).
  void set_max_workers(std::size_t n);
  std::size_t max_workers();

 private:
  // Counts a new worker (under mu_) and returns its index.
  std::size_t add_worker();
  void start_worker(std::size_t index);
  void worker_loop(std::size_t index);
  // Waits for work; false when this worker should leave instead.
  bool wait_for_work(std::unique_lock<sim::Mutex>& lk);
  // Joins the strands of workers that have left their loop.
  void reap();
  Options options_;
  sim::Mutex mu_;
  sim::CondVar work_ready_;
  sim::CondVar all_exited_;
  std::deque<Work> backlog_;
  std::size_t workers_ = 0;
  std::size_t busy_ = 0;
  std::size_t started_ = 0;
  bool quit_ = false;
  std::vector<std::pair<std::size_t, sim::JoinHandle>> handles_;
  std::vector<std::size_t> exited_;
};

// True while a failed simulation run is being torn down: destructors must
// not wait then, the scheduler unwinds every strand itself.
bool tearing_down();

namespace internal {

// A type's readable name ("std::runtime_error", "int").
std::string demangle(const char* name);
// Inside a catch block: whether the exception in flight is the
// scheduler's own (sim::StrandCancelled unwinding a torn-down strand,
// sim::StrandAborted stopping one after WEFT_ASSERT). Those are never a
// user's error: rethrow them.
bool is_strand_control();
// Inside a catch block: the exception in flight for a report,
// "std::runtime_error: disk full", or "int" for a thrown value that is not
// a std::exception.
std::string describe_current_exception();

}  // namespace internal

// A Team of at most `max_workers`, as Twisted's pool(maxthreads).
std::unique_ptr<Team> pool(std::size_t max_workers, std::string name = "pool");

}  // namespace weft::runtime
