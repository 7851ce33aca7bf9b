// What the event-loop I/O tests share: one echo exchange (a server and its
// clients on one reactor) that runs on whichever network the world gives,
// and the check that every client got every answer back, or, only when
// the network injected a reset or a dropped connect, a prefix and a reset.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "docs/examples/echo_server.h"
#include "runtime/net.h"
#include "runtime/reactor.h"
#include "runtime/sim_network.h"
#include "runtime/world.h"
#include "sim/check.h"

namespace weft::runtime::echo {

struct Exchange {
  EchoBug bug = EchoBug::kNone;
  Trigger server_trigger = Trigger::kLevel;
  Trigger client_trigger = Trigger::kLevel;
  int clients = 2;
  int lines = 4;
  std::string address = "tcp:10.0.0.1:7";
  // Requests, by client; empty: request_lines(i, lines).
  std::vector<std::string> requests = {};
  // Expected answers, by client; empty: the requests echoed.
  std::vector<std::string> answers = {};
};

struct ExchangeResult {
  EchoStats server;
  std::uint64_t bytes_sent = 0, bytes_received = 0;
  bool timed_out = false;
};

// Runs `x` to its end on one reactor: every client done (or, on real
// sockets, a guard of 60 seconds that stops a hang). Checks each client
// with WEFT_ASSERT, so a wrong answer fails a simulated schedule.
inline ExchangeResult run_exchange(const Exchange& x) {
  Reactor r;
  EchoServer server(r, x.address, x.bug, x.server_trigger);
  std::vector<std::unique_ptr<EchoClient>> cs;
  std::vector<std::string> req = x.requests;
  const int n = req.empty() ? x.clients : static_cast<int>(req.size());
  for (int i = static_cast<int>(req.size()); i < n; ++i)
    req.push_back(request_lines(i, x.lines));
  ExchangeResult out;
  int done = 0;
  DelayedCall guard;
  auto finish = [&] {
    guard.cancel();
    server.close();
    r.stop();
  };
  for (int i = 0; i < n; ++i) {
    out.bytes_sent += req[i].size();
    cs.push_back(std::make_unique<EchoClient>(r, server.address(), req[i],
                                              x.client_trigger, [&] {
                                                if (++done == n) finish();
                                              }));
  }
  if (!World::current().simulated())
    guard = r.call_later(std::chrono::seconds(60), [&] {
      out.timed_out = true;
      finish();
    });
  r.run();
  bool resets = false;
  if (SimNetwork* net = SimNetwork::current()) {
    const auto fired = net->fired();
    resets = fired[static_cast<int>(Fault::kReset)] +
                 fired[static_cast<int>(Fault::kDropConnect)] >
             0;
  }
  for (int i = 0; i < n; ++i) {
    const EchoClient& c = *cs[i];
    const std::string& want = x.answers.empty() ? req[i] : x.answers[i];
    const std::string& got = c.received();
    out.bytes_received += got.size();
    const bool whole = got == want && !c.reset();
    const bool cut =
        c.reset() && resets && want.compare(0, got.size(), got) == 0;
    WEFT_ASSERT_MSG(c.finished() && (whole || cut),
                    "client " + std::to_string(i) + " got " +
                        std::to_string(got.size()) + " of " +
                        std::to_string(want.size()) + " bytes back" +
                        (c.reset() ? " and a reset" : " and EOF"));
  }
  out.server = server.stats();
  return out;
}

// The same exchange on a simulated network with every fault site in
// swarm mode (on or off per run, then firing 1 use in 4).
inline std::function<void()> simulated(Exchange x, SimNetworkOptions o = {}) {
  return [x, o] {
    SimNetwork net(o);
    run_exchange(x);
  };
}

}  // namespace weft::runtime::echo
