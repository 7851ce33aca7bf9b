// The scheduler's virtual time (sim/scheduler.h): sleeps, callback timers
// on the timer strand, advancing the clock when every strand waits, and
// firing timers in a flight replay's recorded order.
#include <algorithm>
#include <string>

#include "sim/flight.h"
#include "sim/scheduler.h"

namespace weft::sim {

std::string format_time(Nanos t) {
  const auto ns = t.count();
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

void Scheduler::sleep_until(Nanos deadline, SourceLocation where) {
  if (deadline <= now_) {
    choice_point(ChoiceKind::kSleep);
    return;
  }
  struct SleepTarget final : Waitable {
    Nanos until;
    std::string describe() const override {
      return "virtual time " + format_time(until);
    }
  } target;
  target.until = deadline;
  pending_[current_id_] = PendingOp{ChoiceKind::kSleep, Access::kAll};
  timers_.emplace(TimerKey{deadline, ++timer_seq_},
                  TimerEntry{current_id_, nullptr});
  block(ChoiceKind::kSleep, &target, "sleep until", where);
}

TimerKey Scheduler::add_timer(Nanos deadline, std::function<void()> callback) {
  // A replay keeps a recorded deadline as it is (the firing order is the
  // real one), and the timer strand stands ready: the replay lets it fire
  // when the recording says (fire_replayed_timer).
  TimerKey key{hooks_ != nullptr ? deadline : std::max(deadline, now_),
               ++timer_seq_};
  timers_.emplace(key, TimerEntry{kNoStrand, std::move(callback)});
  if (hooks_ != nullptr) start_timer_strand();
  return key;
}

void Scheduler::start_timer_strand() {
  if (timer_strand_ == kNoStrand)
    timer_strand_ = spawn_internal(
        "timers", [this] { timer_strand_body(); }, true);
  else
    wake_from(kNoStrand, timer_strand_);
}

bool Scheduler::cancel_timer(TimerKey key) {
  // Cancelling races with the timer strand firing the callback; in a
  // replay the recording orders the two on the timer service (the
  // scheduler stands for it).
  if (hooks_ != nullptr)
    choice_point(ChoiceKind::kTimer,
                 PendingOp{ChoiceKind::kTimer, Access::kWrite, this});
  else
    choice_point(ChoiceKind::kTimer);
  if (timers_.erase(key) > 0) return true;
  for (std::size_t i = due_next_; i < due_callbacks_.size(); ++i) {
    if (due_callbacks_[i].first == key && due_callbacks_[i].second) {
      due_callbacks_[i].second = nullptr;
      return true;
    }
  }
  return false;
}

bool Scheduler::advance_time() {
  if (timers_.empty()) return false;
  const Nanos deadline = timers_.begin()->first.deadline;
  if (deadline > limits_.max_time) {
    fail(FailureKind::kTimeLimit,
         "virtual time would pass " + format_time(limits_.max_time) +
             " (next deadline " + format_time(deadline) +
             "). This is often a livelock of timers re-arming each other; "
             "raise ExploreOptions::limits.max_time if the test is simply long.");
    return false;
  }
  now_ = std::max(now_, deadline);
  bool callbacks = false;
  while (!timers_.empty() && timers_.begin()->first.deadline == deadline) {
    auto node = timers_.extract(timers_.begin());
    TimerEntry& e = node.mapped();
    if (e.sleeper != kNoStrand) {
      wake_from(kNoStrand, e.sleeper);
    } else {
      due_callbacks_.emplace_back(node.key(), std::move(e.callback));
      callbacks = true;
    }
  }
  if (callbacks) start_timer_strand();
  return true;
}

// In a replay whose recording has the timer thread fire next: fires the
// pending callback timer that comes first (the real timer thread's order:
// deadline, then arming), once the replay lets the timer strand go (the
// recorded version of the timer service), whatever virtual time says;
// virtual time then catches up with its deadline. False when the
// recording or the simulation has no firing to do.
bool Scheduler::fire_replayed_timer() {
  auto first_callback = [this] {
    auto it = timers_.begin();
    while (it != timers_.end() && it->second.sleeper != kNoStrand) ++it;
    return it;
  };
  if (first_callback() == timers_.end() ||
      !hooks_->next_is(flight::Op::kTimerFire))
    return false;
  choice_point(ChoiceKind::kTimer,
               PendingOp{ChoiceKind::kTimer, Access::kWrite, this});
  const auto it = first_callback();  // a cancel may have come first
  if (it == timers_.end()) return false;
  auto node = timers_.extract(it);
  now_ = std::max(now_, node.key().deadline);
  hooks_->on_op(flight::Op::kTimerFire, this,
                static_cast<std::uint64_t>(node.key().deadline.count()));
  node.mapped().callback();
  return true;
}

void Scheduler::timer_strand_body() {
  // One strand fires due callbacks in deadline-then-FIFO order, as a real
  // timer thread would; a callback that blocks delays the ones after it.
  struct TimerQueue final : Waitable {
    std::string describe() const override { return "the next due timer"; }
  } queue;
  for (;;) {
    if (hooks_ != nullptr && fire_replayed_timer()) continue;
    while (due_next_ < due_callbacks_.size()) {
      choice_point(ChoiceKind::kTimer);
      // Taken after the choice point: a cancel may have come first.
      auto cb = std::move(due_callbacks_[due_next_++].second);
      if (cb) cb();
    }
    due_callbacks_.clear();
    due_next_ = 0;
    if (!block(ChoiceKind::kTimer, &queue, "wait for", {})) return;
  }
}

}  // namespace weft::sim
