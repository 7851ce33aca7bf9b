// Event-loop I/O: the echo server of docs/examples/echo_server.h with each
// of five classic bugs is found on the simulated network (and replays from
// its trace); the fixed server passes the same exploration and runs
// correctly on real loopback sockets.
#include "runtime/net.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "docs/examples/echo_server.h"
#include "runtime/reactor.h"
#include "runtime/sim_network.h"
#include "runtime/world.h"
#include "sim/check.h"
#include "sim/harness/gtest.h"
#include "sim/harness/schedule_trace.h"
#include "tests/runtime/both_worlds.h"
#include "tests/runtime/echo_harness.h"

namespace weft::runtime::echo {
namespace {

using test_support::schedules;

std::function<void()> simulated_exchange(EchoBug bug, Trigger trigger) {
  return simulated({.bug = bug, .server_trigger = trigger});
}

// The exploration every bug and the fixed server face: random walk, swarm
// faults (each site on or off per run, then firing 1 use in 4).
constexpr std::uint64_t kSchedules = 400;
sim::ExploreOptions exploration(const std::string& trace_dir = "") {
  sim::ExploreOptions o = schedules(kSchedules, "random");
  o.print = false;
  o.trace_dir = trace_dir;
  o.shrink_runs = 300;
  return o;
}

std::string temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() /
                 ("weft-net-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

class EchoBugs : public ::testing::TestWithParam<EchoBug> {};

Trigger trigger_for(EchoBug bug) {
  return bug == EchoBug::kEdgeStopsBeforeEagain ? Trigger::kEdge
                                                : Trigger::kLevel;
}

TEST_P(EchoBugs, IsFoundInSimulationAndReplaysFromItsTrace) {
  const EchoBug bug = GetParam();
  const std::string dir = temp_dir(std::string(to_string(bug)));
  const auto found = weft::testing::find_failure(
      exploration(dir), simulated_exchange(bug, trigger_for(bug)));
  ASSERT_TRUE(found.failed()) << to_string(bug) << " not found in "
                              << kSchedules << " random schedules";
  EXPECT_EQ(found.failure->kind, sim::FailureKind::kAssertion)
      << found.failure->message;
  ASSERT_FALSE(found.trace_path.empty());
  sim::ExploreOptions again = exploration();
  again.replay_file = found.trace_path;
  const auto replayed = weft::testing::find_failure(
      again, simulated_exchange(bug, trigger_for(bug)));
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.failure->message, found.failure->message);
  EXPECT_EQ(replayed.digest, found.digest);
  std::filesystem::remove_all(dir);
}

TEST_P(EchoBugs, FixedServerPassesTheSameExploration) {
  const EchoBug bug = GetParam();
  const auto r = weft::testing::explore(
      exploration(), simulated_exchange(EchoBug::kNone, trigger_for(bug)));
  EXPECT_FALSE(r.failed()) << r.report;
  EXPECT_EQ(r.schedules, kSchedules);
}

TEST_P(EchoBugs, FixedServerIsCorrectOnRealLoopback) {
  const auto r = run_exchange({.server_trigger = trigger_for(GetParam()),
                               .clients = 4,
                               .lines = 50,
                               .address = "tcp:127.0.0.1:0"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.server.requests, 200u);
  EXPECT_EQ(r.bytes_received, r.bytes_sent);
}

INSTANTIATE_TEST_SUITE_P(Net, EchoBugs,
                         ::testing::Values(EchoBug::kAssumesFullWrite,
                                           EchoBug::kReadinessIsPromise,
                                           EchoBug::kClosesOnHalfClose,
                                           EchoBug::kEdgeStopsBeforeEagain,
                                           EchoBug::kTimerBreaksOnClockJump),
                         [](const ::testing::TestParamInfo<EchoBug>& p) {
                           std::string n(to_string(p.param));
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace weft::runtime::echo
