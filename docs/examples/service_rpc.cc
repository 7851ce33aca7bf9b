// Two services and an RPC between them, as in skynet: a "bank" service
// keeps balances; a "teller" service handles a transfer by calling the
// bank twice. Each request runs in a coroutine of its own, so `co_await
// r.call(...)` reads like a blocking call while the worker threads serve
// other requests. The same program runs on real threads and then under
// weft's scheduler, where every delivery and resumption is a choice.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "runtime/service.h"
#include "sim/harness/explore.h"
#include "sim/weft.h"

using weft::runtime::CallError;
using weft::runtime::Node;
using weft::runtime::Request;
using weft::runtime::Task;

// Returns what the bank holds at the end, as "alice=..,bob=..".
std::string run_bank() {
  Node node;  // two worker threads (strands in a simulation)
  const auto bank = node.add_service({.name = "bank"});
  const auto teller = node.add_service({.name = "teller"});

  // The bank's state is touched only by its own requests, and a service
  // never runs on two threads at once: no lock needed.
  std::map<std::string, int> balance{{"alice", 100}, {"bob", 100}};
  node.on(bank, "add", [&](Request& r) -> Task<std::string> {
    // payload: "<name> <amount>"
    const auto space = r.payload().find(' ');
    const std::string who = r.payload().substr(0, space);
    const int amount = std::stoi(r.payload().substr(space + 1));
    if (balance[who] + amount < 0)
      throw std::runtime_error("insufficient funds");
    balance[who] += amount;
    co_return std::to_string(balance[who]);
  });

  // A transfer: take from one, give to the other; each step is an RPC.
  node.on(teller, "transfer", [bank](Request& r) -> Task<std::string> {
    const auto space = r.payload().find(' ');
    const std::string from = r.payload().substr(0, space);
    const std::string to = r.payload().substr(space + 1);
    try {
      co_await r.call(bank, "add", from + " -30");
    } catch (const CallError& e) {
      co_return std::string("refused: ") + e.what();
    }
    co_await r.call(bank, "add", to + " 30");
    co_return "done";
  });

  // Two clients at once (threads, or strands in a simulation).
  std::vector<weft::sim::JoinHandle> clients;
  clients.push_back(weft::sim::spawn("client-1", [&] {
    WEFT_ASSERT(node.call(teller, "transfer", "alice bob") == "done");
  }));
  clients.push_back(weft::sim::spawn("client-2", [&] {
    WEFT_ASSERT(node.call(teller, "transfer", "bob alice") == "done");
  }));
  for (auto& c : clients) c.join();
  const std::string result = "alice=" + std::to_string(balance["alice"]) +
                             ",bob=" + std::to_string(balance["bob"]);
  return result;
}

int main() {
  const std::string real = run_bank();
  std::printf("real threads: %s\n", real.c_str());
  weft::sim::ExploreOptions options;
  options.iterations = 500;
  const auto result = weft::sim::explore(
      options, [] { WEFT_ASSERT(run_bank() == "alice=100,bob=100"); });
  std::printf("simulated: %llu schedules, %s\n",
              static_cast<unsigned long long>(result.schedules),
              result.failed() ? "one failed" : "every one balanced");
  return real == "alice=100,bob=100" && !result.failed() ? 0 : 1;
}
