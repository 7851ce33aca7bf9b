#include "runtime/worker.h"

#include <cstdio>
#include <exception>
#include <typeinfo>

#include "runtime/internal/strand_identity.h"

namespace weft::runtime {
namespace {

// Work that throws is a bug of the work, not of the worker: in a
// simulation it fails the schedule (with the exception); on real threads it
// is reported and the worker goes on, as Twisted logs it.
void run_work(const Work& work, const std::string& where) {
  try {
    work();
  } catch (const std::exception& e) {
    const std::string what =
        "work on " + where + " threw " + typeid(e).name() + ": " + e.what();
    if (sim::Scheduler* s = sim::Scheduler::current()) {
      s->fail(sim::FailureKind::kException, what);
      return;
    }
    std::fprintf(stderr, "weft: %s\n", what.c_str());
  }
}

}  // namespace

bool tearing_down() {
  const sim::Scheduler* s = sim::Scheduler::current();
  return s != nullptr && s->tearing_down();
}

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
      all_exited_(options_.name + " shutdown") {}

Team::~Team() {
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
    if (backlog_.size() > idle && workers_ < options_.max_workers) {
      index = ++started_;
      ++workers_;
    }
    exited = !exited_.empty();
  }
  if (exited) reap();
  if (index == 0) {
    work_ready_.notify_one();
    return;
  }
  sim::JoinHandle h = sim::spawn(options_.name + "-" + std::to_string(index),
                                 [this, index] { worker_loop(index); });
  std::lock_guard lk(mu_);
  handles_.emplace_back(index, std::move(h));
}

void Team::worker_loop(std::size_t index) {
  const std::string where =
      "pool '" + options_.name + "' worker " + std::to_string(index);
  std::unique_lock lk(mu_);
  for (;;) {
    bool idle_too_long = false;
    while (backlog_.empty() && !quit_ && workers_ <= options_.max_workers &&
           !idle_too_long) {
      idle_too_long = work_ready_.wait_for(lk, options_.idle_timeout) ==
                          std::cv_status::timeout &&
                      backlog_.empty();
    }
    // Out of work and quitting, idle too long, or over the maximum.
    if (backlog_.empty() || workers_ > options_.max_workers) break;
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
    options_.max_workers = n == 0 ? 1 : n;
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
