#include "sim/clock.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "sim/flight.h"

namespace weft::sim {
namespace {

// The real-thread timer service: one thread, deadline-then-FIFO order, the
// same contract the simulated timer strand keeps.
class RealTimers {
 public:
  static RealTimers& instance() {
    static RealTimers timers;
    return timers;
  }

  std::uint64_t add(std::chrono::steady_clock::time_point when,
                    std::function<void()> cb) {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    const std::uint64_t id = ++seq_;
    pending_.emplace(std::make_pair(when, id), std::move(cb));
    cv_.notify_all();
    return id;
  }

  bool cancel(std::uint64_t id) {
    std::lock_guard lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first.second == id) {
        pending_.erase(it);
        return true;
      }
    }
    return false;
  }

  ~RealTimers() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      if (pending_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const auto when = pending_.begin()->first.first;
      if (std::chrono::steady_clock::now() < when) {
        cv_.wait_until(lock, when);
        continue;
      }
      auto cb = std::move(pending_.begin()->second);
      pending_.erase(pending_.begin());
      lock.unlock();
      cb();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>,
           std::function<void()>>
      pending_;
  std::uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Clock::time_point Clock::now() {
  if (Scheduler* s = Scheduler::current()) {
    flight::ReplayHooks* h = s->replay_hooks();
    if (h == nullptr) return time_point(s->now());
    // A replayed reading: the recorded one, which virtual time catches
    // up with.
    const Nanos t{static_cast<Nanos::rep>(
        h->on_op(flight::Op::kClock, nullptr,
                 static_cast<std::uint64_t>(s->now().count())))};
    s->set_time_at_least(t);
    return time_point(t);
  }
  const auto t = std::chrono::duration_cast<duration>(
      std::chrono::steady_clock::now().time_since_epoch());
  if (flight::on()) [[unlikely]]
    flight::record(flight::Op::kClock, 0, 0,
                   static_cast<std::uint64_t>(t.count()));
  return time_point(t);
}

void sleep_for(Clock::duration d, SourceLocation where) {
  if (Scheduler* s = Scheduler::current()) {
    const Nanos until = s->now() + (d.count() > 0 ? d : Clock::duration{0});
    // A replay drives time by the recorded readings: a sleep ends at once.
    if (s->replay_hooks() != nullptr) s->set_time_at_least(until);
    s->sleep_until(until, where);
    return;
  }
  std::this_thread::sleep_for(d);
}

void sleep_until(Clock::time_point t, SourceLocation where) {
  if (Scheduler* s = Scheduler::current()) {
    // A replay drives time by the recorded readings: a sleep ends at once.
    if (s->replay_hooks() != nullptr)
      s->set_time_at_least(t.time_since_epoch());
    s->sleep_until(t.time_since_epoch(), where);
    return;
  }
  std::this_thread::sleep_until(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          t.time_since_epoch())));
}

Timer call_after(Clock::duration delay, std::function<void()> callback) {
  Timer t;
  if (Scheduler* s = Scheduler::current()) {
    t.sched_ = s;
    t.run_id_ = s->run_id();
    t.key_ = s->add_timer(s->now() + delay, std::move(callback));
    return t;
  }
  t.real_id_ = RealTimers::instance().add(
      std::chrono::steady_clock::now() +
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              delay),
      std::move(callback));
  return t;
}

bool Timer::cancel() {
  if (sched_ != nullptr) {
    // A handle from an earlier run, or from another simulation, is stale.
    if (Scheduler::current() != sched_ || sched_->run_id() != run_id_)
      return false;
    return sched_->cancel_timer(key_);
  }
  if (real_id_ != 0) return RealTimers::instance().cancel(real_id_);
  return false;
}

}  // namespace weft::sim
