// The state machine of runtime/state_machine.h: a guarded state's deadline
// is armed on entry and cancelled on exit, a passed deadline takes the
// timeout transition, an expiry check can keep the state for a fresh
// period (a clock jump seen as lateness), the timeout callback may destroy
// the machine, and every transition reaches a recording observer as a net
// note. Each holds on real threads and under 300 schedules, except those
// that jump the simulated clock or watch the scheduler's observer.
#include "runtime/state_machine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "runtime/reactor.h"
#include "sim/check.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "tests/runtime/both_worlds.h"

namespace weft::runtime {
namespace {

using namespace std::chrono_literals;
using test_support::on_threads_and_simulated;

enum : StateMachine::StateId { kIdle, kBusy, kDone };

std::vector<StateMachine::State> states(sim::Clock::duration busy_timeout) {
  return {
      {"idle", {}, kIdle}, {"busy", busy_timeout, kDone}, {"done", {}, kDone}};
}

TEST(StateMachine, LeavingAGuardedStateCancelsItsDeadline) {
  on_threads_and_simulated([] {
    Reactor r;
    // On real threads a stall of 75 ms between the move and the
    // call_later would let the deadline pass first.
    StateMachine m(r, "job", states(100ms), kIdle);
    bool timed_out = false;
    m.set_on_timeout([&](StateMachine::StateId) { timed_out = true; });
    m.move(kBusy, "start");
    r.call_later(25ms, [&] { m.move(kIdle, "finished"); });
    r.call_later(150ms, [&] { r.stop(); });
    r.run();
    WEFT_ASSERT(m.in(kIdle));
    WEFT_ASSERT(!timed_out);
    WEFT_ASSERT(m.transitions() == 2);
  });
}

TEST(StateMachine, APassedDeadlineTakesTheTimeoutTransitionOnce) {
  on_threads_and_simulated([] {
    Reactor r;
    StateMachine m(r, "job", states(10ms), kIdle);
    std::vector<StateMachine::StateId> left;
    m.set_on_timeout([&](StateMachine::StateId from) {
      left.push_back(from);
      r.stop();
    });
    m.move(kBusy, "start");
    r.run();
    WEFT_ASSERT(m.in(kDone));
    WEFT_ASSERT(m.state_name() == "done");
    WEFT_ASSERT(left == std::vector<StateMachine::StateId>{kBusy});
  });
}

TEST(StateMachine, EnteringAGuardedStateAgainGivesItAFreshPeriod) {
  // Simulated: the claim is about virtual time, exactly.
  weft::testing::explore(test_support::schedules(300), [] {
    Reactor r;
    StateMachine m(r, "job", states(10ms), kBusy);
    const auto start = sim::Clock::now();
    sim::Clock::time_point fired{};
    m.set_on_timeout([&](StateMachine::StateId) {
      fired = sim::Clock::now();
      r.stop();
    });
    r.call_later(8ms, [&] { m.move(kBusy, "more work"); });
    r.run();
    WEFT_ASSERT(fired - start == 18ms);
  });
}

TEST(StateMachine, AnExpiryCheckSeesAClockJumpAsLatenessAndCanKeepTheState) {
  weft::testing::explore(test_support::schedules(300), [] {
    Reactor r;
    StateMachine m(r, "conn", states(10ms), kBusy);
    std::vector<sim::Clock::duration> late;
    m.set_expiry_check([&](const StateMachine::Expiry& e) {
      late.push_back(e.late);
      return e.late > 5ms ? std::string("clock jumped") : std::string();
    });
    m.set_on_timeout([&](StateMachine::StateId) { r.stop(); });
    // Suspended for a second just after entering: the guard fires late.
    r.call_later(1ms, [] { sim::Scheduler::current()->jump_clock(1s); });
    r.run();
    WEFT_ASSERT(late.size() == 2);
    WEFT_ASSERT(late[0] == 1s + 1ms - 10ms);  // kept: a fresh period
    WEFT_ASSERT(late[1] == 0ms);              // then timed out on time
    WEFT_ASSERT(m.in(kDone));
  });
}

TEST(StateMachine, TheTimeoutCallbackMayDestroyTheMachine) {
  on_threads_and_simulated([] {
    Reactor r;
    auto m = std::make_unique<StateMachine>(r, "conn", states(5ms), kBusy);
    m->set_on_timeout([&](StateMachine::StateId) {
      m.reset();
      r.stop();
    });
    r.run();
    WEFT_ASSERT(m == nullptr);
  });
}

TEST(StateMachine, AnOutOfRangeStateIsRefused) {
  Reactor r;
  EXPECT_THROW(StateMachine(r, "bad", states(1ms), 7), std::invalid_argument);
  StateMachine m(r, "job", states(1ms), kIdle);
  EXPECT_THROW(m.move(9, "no such state"), std::invalid_argument);
  EXPECT_TRUE(m.in(kIdle));
}

// Collects the net notes of one run.
class NetNotes final : public sim::RunObserver {
 public:
  std::vector<sim::NetNote> notes;
  void on_spawn(sim::StrandId, sim::StrandId, const std::string&, std::uint64_t,
                sim::Nanos) override {}
  void on_exit(sim::StrandId, std::uint64_t, sim::Nanos) override {}
  void on_choice(const sim::Choice&, sim::Nanos) override {}
  void on_wake(sim::StrandId, sim::StrandId, std::uint64_t,
               sim::Nanos) override {}
  void on_net(sim::StrandId, std::uint64_t, const sim::NetNote& n) override {
    notes.push_back(n);
  }
  void on_failure(const sim::Failure&) override {}
};

TEST(StateMachine, EveryTransitionReachesARecordingObserverAsAStateNote) {
  sim::Scheduler sched(sim::RunLimits{});
  NetNotes seen;
  sched.set_observer(&seen);
  sim::RandomStrategy random;
  const auto run = sched.run(random, 1, [] {
    Reactor r;
    StateMachine m(r, "job 1", states(10ms), kIdle);
    m.set_on_timeout([&](StateMachine::StateId) { r.stop(); });
    m.move(kBusy, "start");
    r.run();
  });
  sched.set_observer(nullptr);
  ASSERT_FALSE(run.failed()) << run.failure->message;
  ASSERT_EQ(seen.notes.size(), 2u);
  for (const auto& n : seen.notes) {
    EXPECT_EQ(n.event, sim::NetEvent::kState);
    EXPECT_EQ(n.name, "job 1");
  }
  EXPECT_EQ(seen.notes[0].detail, "idle -> busy: start");
  EXPECT_EQ(seen.notes[1].detail, "busy -> done: timeout");
}

}  // namespace
}  // namespace weft::runtime
