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

  // Arms a timer: its id, and (`arm`) the arm's version of the service
  // when a flight recorder logs it.
  std::uint64_t add(std::chrono::steady_clock::time_point when,
                    std::function<void()> cb, std::uint64_t& arm) {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    const std::uint64_t id = ++seq_;
    // The service's arms, firings and cancels are writes of one recorded
    // object, under mu_: the recording orders them all.
    arm = 0;
    if (flight::on()) [[unlikely]]
      arm = tag_.exclusive_write(
          flight::Op::kTimerArm,
          static_cast<std::uint64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(
                  when.time_since_epoch())
                  .count()));
    pending_.emplace(std::make_pair(when, id), Pending{std::move(cb), arm});
    cv_.notify_all();
    return id;
  }

  bool cancel(std::uint64_t id, std::uint64_t arm) {
    std::lock_guard lock(mu_);
    bool found = false;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first.second == id) {
        pending_.erase(it);
        found = true;
        break;
      }
    }
    if (flight::on()) [[unlikely]]
      tag_.exclusive_write(flight::Op::kTimerCancel, arm * 2 + (found ? 1 : 0));
    return found;
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
      auto cb = std::move(pending_.begin()->second.cb);
      if (flight::on()) [[unlikely]]
        tag_.exclusive_write(flight::Op::kTimerFire,
                             pending_.begin()->second.arm);
      pending_.erase(pending_.begin());
      lock.unlock();
      cb();
      lock.lock();
    }
  }

  struct Pending {
    std::function<void()> cb;
    std::uint64_t arm;  // recorded: the arm's version of the service
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>,
           Pending>
      pending_;
  flight::ObjectTag tag_;
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
    Nanos deadline = s->now() + delay;
    if (flight::ReplayHooks* h = s->replay_hooks()) {
      // Replayed: armed when the recording armed it (the scheduler stands
      // for the real timer service), with the recorded deadline; it fires
      // when the recording says (Scheduler::add_timer).
      s->choice_point(ChoiceKind::kTimer,
                      PendingOp{ChoiceKind::kTimer, Access::kWrite, s});
      deadline = Nanos{static_cast<Nanos::rep>(
          h->on_op(flight::Op::kTimerArm, s,
                   static_cast<std::uint64_t>(deadline.count())))};
    }
    t.key_ = s->add_timer(deadline, std::move(callback));
    return t;
  }
  t.real_id_ = RealTimers::instance().add(
      std::chrono::steady_clock::now() +
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              delay),
      std::move(callback), t.real_arm_);
  return t;
}

bool Timer::cancel() {
  if (sched_ != nullptr) {
    // A handle from an earlier run, or from another simulation, is stale.
    if (Scheduler::current() != sched_ || sched_->run_id() != run_id_)
      return false;
    const bool cancelled = sched_->cancel_timer(key_);
    if (flight::ReplayHooks* h = sched_->replay_hooks())
      h->on_op(flight::Op::kTimerCancel, sched_, cancelled ? 1 : 0);
    return cancelled;
  }
  if (real_id_ != 0) return RealTimers::instance().cancel(real_id_, real_arm_);
  return false;
}

}  // namespace weft::sim
