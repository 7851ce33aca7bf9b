// The simulated network's faults: each site fires when switched on, one
// seed gives one schedule (faults included), a failing trace holds its
// faults as choices and as events and replays them, shrinking keeps only
// the faults a failure needs, and bad input from a peer takes the
// protocol's error path on both networks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "runtime/sim_network.h"
#include "sim/harness/gtest.h"
#include "sim/harness/schedule_trace.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "tests/runtime/both_worlds.h"
#include "tests/runtime/echo_harness.h"
#include "traces/reader.h"

namespace weft::runtime::echo {
namespace {

using test_support::schedules;

sim::ExploreOptions quiet_random(std::uint64_t n) {
  sim::ExploreOptions o = schedules(n, "random");
  o.print = false;
  return o;
}

TEST(SimNetwork, EverySiteFiresWhenSwitchedOnAndNoneWhenOff) {
  sim::Scheduler sched(sim::RunLimits{});
  for (std::size_t f = 0; f < kFaultCount; ++f) {
    std::uint32_t fired = 0, others = 0;
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      sim::RandomStrategy random;
      const auto run = sched.run(random, seed, [&] {
        SimNetwork net(SimNetworkOptions::only(static_cast<Fault>(f)));
        run_exchange({.clients = 3, .lines = 6});
        const auto counts = net.fired();
        for (std::size_t g = 0; g < kFaultCount; ++g)
          (g == f ? fired : others) += counts[g];
      });
      // Only the fixed server runs: a failure would be a harness bug.
      ASSERT_FALSE(run.failed())
          << to_string(static_cast<Fault>(f)) << ": " << run.failure->message;
    }
    EXPECT_GT(fired, 0u) << to_string(static_cast<Fault>(f));
    EXPECT_EQ(others, 0u) << to_string(static_cast<Fault>(f));
  }
}

TEST(SimNetwork, OneSeedGivesOneScheduleFaultsIncluded) {
  // PCT (depth 3) over swarm faults: each seed twice, same digest.
  test_support::expect_same_schedule_per_seed(simulated({.clients = 3}), 200);
}

std::string faults_temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() /
                 ("weft-net-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

TEST(SimNetwork, AFailingTraceHoldsItsFaultsAsChoicesAndNetRecords) {
  const std::string dir = faults_temp_dir("trace");
  sim::ExploreOptions o = quiet_random(400);
  o.trace_dir = dir;
  const auto found = weft::testing::find_failure(
      o, simulated({.bug = EchoBug::kAssumesFullWrite}));
  ASSERT_TRUE(found.failed());
  ASSERT_FALSE(found.trace_path.empty()) << found.report;
  std::uint64_t fault_choices = 0, short_writes = 0, connects = 0, accepts = 0,
                delivered = 0, sent = 0, states = 0;
  auto reader = traces::TraceReader::open(found.trace_path);
  using E = traces::NetRecord::Event;
  for (const auto& rec : reader.records()) {
    if (const auto* c = std::get_if<traces::ChoiceRecord>(&rec))
      fault_choices += c->kind == static_cast<std::uint8_t>(
                                      traces::ChoiceRecordKind::kFault);
    if (const auto* n = std::get_if<traces::NetRecord>(&rec)) {
      short_writes += n->event == E::kFault && n->name == "short-write";
      connects += n->event == E::kConnect;
      accepts += n->event == E::kAccept;
      sent += n->event == E::kSend ? n->bytes : 0;
      delivered += n->event == E::kDeliver ? n->bytes : 0;
      states += n->event == E::kState;
    }
  }
  EXPECT_GT(fault_choices, 0u);
  EXPECT_GT(short_writes, 0u);
  // Two clients: each connection opened and accepted, bytes sent and
  // delivered, and the server's connection states.
  EXPECT_EQ(connects, 2u);
  EXPECT_EQ(accepts, 2u);
  EXPECT_GT(delivered, 0u);
  EXPECT_LE(delivered, sent);
  EXPECT_GT(states, 0u);
  std::filesystem::remove_all(dir);
}

TEST(SimNetwork, ShrinkingKeepsOnlyTheFaultsTheFailureNeeds) {
  const auto body = simulated({.bug = EchoBug::kAssumesFullWrite});
  const auto found = weft::testing::find_failure(quiet_random(400), body);
  ASSERT_TRUE(found.failed());
  ASSERT_TRUE(found.shrunk.has_value());
  // Replay the shrunk schedule, counting what fired.
  std::array<std::uint32_t, kFaultCount> fired{};
  sim::Scheduler sched(sim::RunLimits{});
  sim::ReplayStrategy replay(*found.shrunk, /*lenient_tail=*/true);
  const auto run = sched.run(replay, found.seed, [&] {
    SimNetwork net;
    struct Count {
      SimNetwork& net;
      std::array<std::uint32_t, kFaultCount>& out;
      ~Count() { out = net.fired(); }
    } count{net, fired};
    run_exchange({.bug = EchoBug::kAssumesFullWrite});
  });
  ASSERT_TRUE(run.failed());
  EXPECT_GE(fired[static_cast<int>(Fault::kShortWrite)], 1u);
  for (std::size_t f = 0; f < kFaultCount; ++f) {
    if (f != static_cast<std::size_t>(Fault::kShortWrite)) {
      EXPECT_EQ(fired[f], 0u) << to_string(static_cast<Fault>(f));
    }
  }
}

// Clients that never half-close: the server reads EOF only when the
// network injects a half-close, so the close-before-flush bug stays hidden
// from such clients until that fault site is on. Short writes (which leave
// answers unflushed) are in swarm mode in both explorations.
Exchange keep_open(EchoBug bug) {
  return {.bug = bug, .clients = 3, .lines = 6, .clients_half_close = false};
}
SimNetworkOptions short_writes(bool half_close) {
  using Mode = SimNetworkOptions::Mode;
  auto o = SimNetworkOptions::none().set(Fault::kShortWrite, Mode::kSwarm);
  if (half_close) o.set(Fault::kHalfClose, Mode::kSwarm);
  return o;
}

TEST(HalfCloseFault, FindsTheCloseBeforeFlushBugThatCleanClientsHide) {
  const auto bug = EchoBug::kClosesOnHalfClose;
  const auto hidden = weft::testing::explore(
      quiet_random(400), simulated(keep_open(bug), short_writes(false)));
  EXPECT_FALSE(hidden.failed()) << hidden.report;
  EXPECT_EQ(hidden.schedules, 400u);
  const auto found = weft::testing::find_failure(
      quiet_random(400), simulated(keep_open(bug), short_writes(true)));
  ASSERT_TRUE(found.failed());
  ASSERT_TRUE(found.shrunk.has_value());
  // The shrunk schedule still needs a half-close (and a short write).
  std::array<std::uint32_t, kFaultCount> fired{};
  sim::Scheduler sched(sim::RunLimits{});
  sim::ReplayStrategy replay(*found.shrunk, /*lenient_tail=*/true);
  const auto run = sched.run(replay, found.seed, [&] {
    SimNetwork net(short_writes(true));
    struct Count {
      SimNetwork& net;
      std::array<std::uint32_t, kFaultCount>& out;
      ~Count() { out = net.fired(); }
    } count{net, fired};
    run_exchange(keep_open(bug));
  });
  ASSERT_TRUE(run.failed());
  EXPECT_GE(fired[static_cast<int>(Fault::kHalfClose)], 1u);
  EXPECT_GE(fired[static_cast<int>(Fault::kShortWrite)], 1u);
}

TEST(HalfCloseFault, TheFixedServerFlushesBeforeClosingUnderIt) {
  const auto fixed = weft::testing::explore(
      quiet_random(400),
      simulated(keep_open(EchoBug::kNone), short_writes(true)));
  EXPECT_FALSE(fixed.failed()) << fixed.report;
  EXPECT_EQ(fixed.schedules, 400u);
}

TEST(HalfCloseFault, ClientsThatKeepTheirWriteSideOpenAreServedOnLoopback) {
  Exchange x = keep_open(EchoBug::kNone);
  x.address = "tcp:127.0.0.1:0";
  const auto r = run_exchange(x);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.bytes_received, r.bytes_sent);
  EXPECT_EQ(r.server.requests, 18u);
}

// Garbage, an over-long line, an empty line and a request cut by EOF each
// get the error answer and a closed connection; a good client beside them
// gets its answers.
Exchange bad_peers(const std::string& address) {
  return {
      .address = address,
      .requests = {std::string("hello\n\x01\x02garbage\nnever\n"),
                   "hello\nhalf a requ", std::string(100, 'a') + "\n",
                   "\nafter\n", "good\n"},
      .answers = {"hello\nerror: bad request\n", "hello\nerror: truncated\n",
                  "error: bad request\n", "error: bad request\n", "good\n"}};
}

TEST(EchoServer, GarbageOrAMidMessageCloseGetsTheErrorAnswerOnLoopback) {
  const auto r = run_exchange(bad_peers("tcp:127.0.0.1:0"));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.server.protocol_errors, 4u);
  EXPECT_EQ(r.server.requests, 3u);
}

TEST(EchoServer, GarbageOrAMidMessageCloseGetsTheErrorAnswerUnderFaults) {
  const auto r = weft::testing::explore(quiet_random(400), [] {
    SimNetwork net;
    run_exchange(bad_peers("tcp:10.0.0.1:7"));
  });
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(r.schedules, 400u);
}

}  // namespace
}  // namespace weft::runtime::echo
