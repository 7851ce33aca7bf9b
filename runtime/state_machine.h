// A protocol object's explicit state: named states, every transition
// logged (in a recorded simulation, a trace's net record that `weft trace
// show` and the timeline draw), and states guarded by timers: entering a
// guarded state arms its deadline on the reactor, leaving it cancels it,
// and a deadline that passes takes the state's timeout transition (unless
// the expiry check keeps the state for a fresh period). Reactor-only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/reactor.h"
#include "sim/clock.h"

namespace weft::runtime {

class StateMachine {
 public:
  using StateId = std::uint8_t;
  struct State {
    std::string name;
    sim::Clock::duration timeout{0};  // 0: not guarded
    StateId on_timeout = 0;           // where a passed deadline leads
  };
  // A guard's deadline passed: in `state`, due at `due`, firing `late`
  // after it (a suspended machine fires its timers late: the clock jumped).
  struct Expiry {
    StateId state = 0;
    sim::Clock::time_point due{};
    sim::Clock::duration late{0};
  };

  // `name` labels the transitions ("conn 4"); starts in `initial` (its
  // guard armed).
  StateMachine(Reactor& r, std::string name, std::vector<State> states,
               StateId initial);
  ~StateMachine();  // cancels the guard
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  StateId state() const { return state_; }
  const std::string& state_name() const { return states_[state_].name; }
  bool in(StateId s) const { return state_ == s; }
  // Moves to `to`, logged with `why`: cancels the current state's guard
  // and arms the new one's (a move to the same state re-arms it).
  void move(StateId to, std::string_view why);

  // Consulted when a guard's deadline passes: "" takes the timeout
  // transition; any other text keeps the state, logged as "s -> s: text",
  // with a fresh deadline. Without a check, the transition is taken.
  void set_expiry_check(std::function<std::string(const Expiry&)> check) {
    check_ = std::move(check);
  }
  // Called after a timeout transition, with the state it left; the last
  // thing the machine does, so it may destroy the machine.
  void set_on_timeout(std::function<void(StateId from)> f) {
    on_timeout_ = std::move(f);
  }
  // Transitions taken, timeouts and kept states included.
  std::uint64_t transitions() const { return transitions_; }

 private:
  void log(StateId from, StateId to, std::string_view why);
  void arm();
  void expire(sim::Clock::time_point due);

  Reactor& r_;
  std::string name_;
  std::vector<State> states_;
  StateId state_;
  DelayedCall guard_;
  std::function<std::string(const Expiry&)> check_;
  std::function<void(StateId)> on_timeout_;
  std::uint64_t transitions_ = 0;
};

}  // namespace weft::runtime
