// The state machine of runtime/state_machine.h: transitions go to the
// world's log (World::note_net: a net record of event kState in a recorded
// simulation), guards are the reactor's call_later timers.
#include "runtime/state_machine.h"

#include <stdexcept>

#include "runtime/world.h"

namespace weft::runtime {

StateMachine::StateMachine(Reactor& r, std::string name,
                           std::vector<State> states, StateId initial)
    : r_(r),
      name_(std::move(name)),
      states_(std::move(states)),
      state_(initial) {
  bool ok = initial < states_.size();
  for (const State& s : states_) ok = ok && s.on_timeout < states_.size();
  if (!ok)
    throw std::invalid_argument("StateMachine '" + name_ +
                                "': a state number out of range");
  arm();
}

StateMachine::~StateMachine() { guard_.cancel(); }

void StateMachine::move(StateId to, std::string_view why) {
  if (to >= states_.size())
    throw std::invalid_argument("StateMachine '" + name_ +
                                "': no state number " + std::to_string(to));
  guard_.cancel();
  const StateId from = state_;
  state_ = to;
  log(from, to, why);
  arm();
}

void StateMachine::log(StateId from, StateId to, std::string_view why) {
  ++transitions_;
  World::current().note_net([&] {
    sim::NetNote n;
    n.event = sim::NetEvent::kState;
    n.name = name_;
    n.detail = states_[from].name + " -> " + states_[to].name;
    if (!why.empty()) n.detail += ": " + std::string(why);
    return n;
  });
}

void StateMachine::arm() {
  const auto timeout = states_[state_].timeout;
  if (timeout.count() <= 0) return;
  const auto due = World::current().now() + timeout;
  guard_ = r_.call_later(timeout, [this, due] { expire(due); });
}

void StateMachine::expire(sim::Clock::time_point due) {
  const Expiry e{state_, due, World::current().now() - due};
  if (check_) {
    const std::string keep = check_(e);
    if (!keep.empty()) {
      log(state_, state_, keep);
      arm();
      return;
    }
  }
  const StateId from = state_;
  state_ = states_[from].on_timeout;
  log(from, state_, "timeout");
  arm();
  if (on_timeout_) {
    // The callback may destroy the machine: nothing after it.
    const auto f = on_timeout_;
    f(from);
  }
}

}  // namespace weft::runtime
