// docs/guide.md, "Testing an event-loop server": the line-echo server of
// echo_server.h with each of its five classic bugs, explored on the
// simulated network (random walk, every fault site in swarm mode), then
// the fixed server under the same exploration and on real loopback TCP.
// The first bug's exploration prints its full report and writes its trace
// files (weft-traces/echo-...), which `weft trace show` reads.
//
// This program exits 0 only if every bug is found and the fixed server
// passes everywhere.
#include <cstdio>
#include <string>

#include "docs/examples/echo_server.h"
#include "runtime/reactor.h"
#include "runtime/sim_network.h"
#include "sim/weft.h"

using namespace weft::runtime;
using namespace weft::runtime::echo;

// Two clients send four lines each, shut their write side and read the
// answers back; any client missing an answer fails the schedule (unless
// the network injected a reset, which may cut a connection short).
bool exchange(EchoBug bug, Trigger trigger, const std::string& address) {
  Reactor r;
  EchoServer server(r, address, bug, trigger);
  const std::string req[2] = {request_lines(0, 4), request_lines(1, 4)};
  int done = 0;
  auto finish = [&] {
    if (++done < 2) return;
    server.close();
    r.stop();
  };
  EchoClient a(r, server.address(), req[0], Trigger::kLevel, finish);
  EchoClient b(r, server.address(), req[1], Trigger::kLevel, finish);
  r.run();
  bool resets = false;
  if (SimNetwork* net = SimNetwork::current())
    resets = net->fired()[static_cast<int>(Fault::kReset)] +
                 net->fired()[static_cast<int>(Fault::kDropConnect)] >
             0;
  const auto ok = [&](const EchoClient& c, const std::string& want) {
    return (!c.reset() && c.received() == want) ||
           (c.reset() && resets &&
            want.compare(0, c.received().size(), c.received()) == 0);
  };
  WEFT_ASSERT(ok(a, req[0]));
  WEFT_ASSERT(ok(b, req[1]));
  return ok(a, req[0]) && ok(b, req[1]);
}

int main() {
  const EchoBug bugs[] = {
      EchoBug::kClosesOnHalfClose, EchoBug::kAssumesFullWrite,
      EchoBug::kReadinessIsPromise, EchoBug::kEdgeStopsBeforeEagain,
      EchoBug::kTimerBreaksOnClockJump};
  bool all = true;
  for (const EchoBug bug : bugs) {
    const Trigger t = bug == EchoBug::kEdgeStopsBeforeEagain ? Trigger::kEdge
                                                             : Trigger::kLevel;
    weft::ExploreOptions o;
    o.strategy = "random";
    o.iterations = 400;
    o.use_environment = false;
    o.name = "echo-" + std::string(to_string(bug));
    o.print = bug == EchoBug::kClosesOnHalfClose;  // one full report
    const auto body = [t](EchoBug b) {
      return [b, t] {
        SimNetwork net;
        exchange(b, t, "tcp:10.0.0.1:7");
      };
    };
    const auto found = weft::explore(o, body(bug));
    o.print = false;
    o.trace_dir = "";
    const auto fixed = weft::explore(o, body(EchoBug::kNone));
    const bool real = exchange(EchoBug::kNone, t, "tcp:127.0.0.1:0");
    std::printf(
        "%-28s found after %3llu schedules (seed %llu); fixed: %s "
        "in %llu schedules, %s on loopback\n",
        std::string(to_string(bug)).c_str(),
        static_cast<unsigned long long>(found.schedules),
        static_cast<unsigned long long>(found.seed),
        fixed.failed() ? "FAILS" : "passes",
        static_cast<unsigned long long>(fixed.schedules),
        real ? "correct" : "WRONG");
    std::fflush(stdout);  // before the next exploration forks its child
    all = all && found.failed() && !fixed.failed() && real;
  }
  return all ? 0 : 1;
}
