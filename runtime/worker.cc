#include "runtime/worker.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <typeinfo>

#include "runtime/internal/strand_identity.h"
#include "runtime/world.h"

namespace weft::runtime {
namespace {

// Work that throws (anything, not only std::exceptions) is a bug of the
// work, not of the worker: in a simulation it fails the schedule (with the
// exception); on real threads it is reported and the worker goes on, as
// Twisted logs it.
void run_work(const Work& work, const std::string& where) {
  try {
    work();
  } catch (...) {
    if (internal::is_strand_control()) throw;
    const std::string what =
        "work on " + where + " threw " + internal::describe_current_exception();
    World::current().report_lost_error(what);
  }
}

}  // namespace

bool tearing_down() { return World::current().tearing_down(); }

namespace internal {

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

bool is_strand_control() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  return t != nullptr && (*t == typeid(sim::StrandCancelled) ||
                          *t == typeid(sim::StrandAborted));
}

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return demangle(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return t != nullptr ? demangle(t->name()) : std::string("an unknown type");
  }
}

}  // namespace internal

// --- ThreadWorker ------------------------------------------------------------

ThreadWorker::ThreadWorker(std::string name)
    : mu_(name + " queue lock"), ready_(name + " queue") {
  strand_ = sim::spawn(name, [this, name] {
    std::unique_lock lk(mu_);
    for (;;) {
      ready_.wait(lk, [this] { return !queue_.empty() || quit_; });
      if (queue_.empty()) return;
      Work w = std::move(queue_.front());
      queue_.pop_front();
      lk.unlock();
      run_work(w, "worker '" + name + "'");
      lk.lock();
    }
  });
}

ThreadWorker::~ThreadWorker() {
  // A deadlock found while this waits ends the run: the wait is abandoned
  // (join() returns) rather than unwound by a throw out of a destructor.
  sim::NoUnwindScope no_unwind;
  {
    std::lock_guard lk(mu_);
    quit_ = true;
  }
  ready_.notify_all();
  // A failed simulation run unwinds every strand itself; waiting here
  // would wait for a strand that is being unwound.
  if (!tearing_down()) join();
}

void ThreadWorker::submit(Work work) {
  {
    std::lock_guard lk(mu_);
    if (quit_) throw AlreadyQuit();
    queue_.push_back(std::move(work));
  }
  ready_.notify_one();
}

void ThreadWorker::quit() {
  {
    std::lock_guard lk(mu_);
    if (quit_) throw AlreadyQuit();
    quit_ = true;
  }
  ready_.notify_all();
}

void ThreadWorker::join() {
  if (strand_.joinable()) strand_.join();
}

// --- LockWorker --------------------------------------------------------------

void LockWorker::submit(Work work) {
  const auto me = internal::StrandIdentity::current();
  {
    std::lock_guard lk(state_);
    if (quit_) throw AlreadyQuit();
    if (running_ && owner_ == me) {
      // Submitted from inside work: runs after the current item.
      pending_.push_back(std::move(work));
      return;
    }
  }
  lock_.lock();
  {
    std::lock_guard lk(state_);
    running_ = true;
    owner_ = me;
  }
  Work next = std::move(work);
  for (;;) {
    try {
      next();
    } catch (...) {
      {
        std::lock_guard lk(state_);
        running_ = false;
        pending_.clear();
      }
      lock_.unlock();
      throw;
    }
    std::lock_guard lk(state_);
    if (pending_.empty()) {
      running_ = false;
      break;
    }
    next = std::move(pending_.front());
    pending_.pop_front();
  }
  lock_.unlock();
}

void LockWorker::quit() {
  std::lock_guard lk(state_);
  if (quit_) throw AlreadyQuit();
  quit_ = true;
}

// --- Team --------------------------------------------------------------------

Team::Team(Options options)
    : options_(std::move(options)),
      mu_(options_.name + " lock"),
      work_ready_(options_.name + " work"),
      all_exited_(options_.name + " shutdown") {
  if (options_.min_workers > options_.max_workers)
    throw std::invalid_argument("Team '" + options_.name + "': min_workers (" +
                                std::to_string(options_.min_workers) +
                                ") exceeds max_workers (" +
                                std::to_string(options_.max_workers) + ")");
  for (std::size_t i = 0; i < options_.min_workers; ++i) {
    std::size_t index = 0;
    {
      std::lock_guard lk(mu_);
      index = add_worker();
    }
    start_worker(index);
  }
}

Team::~Team() {
  // See ~ThreadWorker: a deadlock found while this waits is reported, and
  // the wait abandoned, never thrown out of the destructor.
  sim::NoUnwindScope no_unwind;
  {
    std::lock_guard lk(mu_);
    quit_ = true;
  }
  work_ready_.notify_all();
  if (!tearing_down()) join();
}

void Team::submit(Work work) {
  std::size_t index = 0;
  bool exited = false;
  {
    std::lock_guard lk(mu_);
    if (quit_) throw AlreadyQuit();
    backlog_.push_back(std::move(work));
    // A worker that has not picked up its item yet counts as idle, so
    // grow only while the backlog outnumbers the idle workers.
    const std::size_t idle = workers_ - busy_;
    if (backlog_.size() > idle && workers_ < options_.max_workers)
      index = add_worker();
    exited = !exited_.empty();
  }
  if (exited) reap();
  if (index == 0) {
    work_ready_.notify_one();
    return;
  }
  start_worker(index);
}

std::size_t Team::add_worker() {
  ++workers_;
  return ++started_;
}

void Team::start_worker(std::size_t index) {
  sim::JoinHandle h = sim::spawn(options_.name + "-" + std::to_string(index),
                                 [this, index] { worker_loop(index); });
  std::lock_guard lk(mu_);
  handles_.emplace_back(index, std::move(h));
}

bool Team::wait_for_work(std::unique_lock<sim::Mutex>& lk) {
  while (backlog_.empty() && !quit_ && workers_ <= options_.max_workers) {
    // The first min_workers never time out: they wait for work or quit().
    if (workers_ <= options_.min_workers) {
      work_ready_.wait(lk);
      continue;
    }
    const bool timed_out = work_ready_.wait_for(lk, options_.idle_timeout) ==
                           std::cv_status::timeout;
    // Counted after the wait: others may have left meanwhile.
    if (timed_out && backlog_.empty() && workers_ > options_.min_workers)
      return false;
  }
  // Out of work and quitting, or over the maximum.
  return !backlog_.empty() && workers_ <= options_.max_workers;
}

void Team::worker_loop(std::size_t index) {
  const std::string where =
      "pool '" + options_.name + "' worker " + std::to_string(index);
  std::unique_lock lk(mu_);
  for (;;) {
    if (!wait_for_work(lk)) break;
    Work w = std::move(backlog_.front());
    backlog_.pop_front();
    ++busy_;
    lk.unlock();
    run_work(w, where);
    lk.lock();
    --busy_;
  }
  --workers_;
  exited_.push_back(index);
  all_exited_.notify_all();
  // Work queued while this worker was deciding to leave still needs one.
  if (!backlog_.empty()) work_ready_.notify_one();
}

void Team::reap() {
  std::vector<sim::JoinHandle> done;
  {
    std::lock_guard lk(mu_);
    for (std::size_t index : exited_) {
      for (auto it = handles_.begin(); it != handles_.end(); ++it) {
        if (it->first == index) {
          done.push_back(std::move(it->second));
          handles_.erase(it);
          break;
        }
      }
    }
    exited_.clear();
  }
  for (auto& h : done) h.join();
}

void Team::quit() {
  {
    std::lock_guard lk(mu_);
    if (quit_) throw AlreadyQuit();
    quit_ = true;
  }
  work_ready_.notify_all();
}

void Team::join() {
  if (tearing_down()) return;
  {
    std::unique_lock lk(mu_);
    all_exited_.wait(lk, [this] { return workers_ == 0; });
  }
  // Torn down while waiting inside ~Team: stop waiting.
  if (sim::abandoning()) return;
  // Every worker has left its loop; their strands may still be returning.
  reap();
  std::vector<sim::JoinHandle> rest;
  {
    std::lock_guard lk(mu_);
    for (auto& [i, h] : handles_) rest.push_back(std::move(h));
    handles_.clear();
  }
  for (auto& h : rest) h.join();
}

TeamStatistics Team::statistics() {
  std::lock_guard lk(mu_);
  return TeamStatistics{busy_, workers_ - busy_, backlog_.size()};
}

void Team::set_max_workers(std::size_t n) {
  {
    std::lock_guard lk(mu_);
    options_.max_workers = std::max({n, options_.min_workers, std::size_t{1}});
  }
  work_ready_.notify_all();
}

std::size_t Team::max_workers() {
  std::lock_guard lk(mu_);
  return options_.max_workers;
}

std::unique_ptr<Team> pool(std::size_t max_workers, std::string name) {
  Team::Options o;
  o.max_workers = max_workers;
  o.name = std::move(name);
  return std::make_unique<Team>(std::move(o));
}

}  // namespace weft::runtime
