// The differential soundness test of the components: hand-offs through
// workers, the team, the reactor and its thread pool, run on real threads
// with random delays and exhaustively under the scheduler. Every real
// outcome must be reachable, and the simulation reaches exactly the
// outcomes the component's model allows.
#include "tests/support/differential.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/reactor.h"
#include "runtime/service.h"
#include "runtime/worker.h"
#include "sim/thread.h"

namespace weft::test {
namespace {

using runtime::Reactor;

// Two strands submit one item each to the worker: either order.
template <class MakeWorker>
std::string two_submitters(MakeWorker make) {
  std::string log;
  sim::Mutex log_mu;
  auto item = [&](char c) {
    return [&, c] {
      jitter();
      std::lock_guard lk(log_mu);
      log += c;
    };
  };
  {
    auto worker = make();
    auto other = sim::spawn("submitter", [&] {
      jitter();
      worker->submit(item('b'));
    });
    jitter();
    worker->submit(item('a'));
    other.join();
    worker->quit();
  }
  return log;
}

Program thread_worker_order() {
  return {"thread worker: two submitters",
          [] {
            return two_submitters(
                [] { return std::make_unique<runtime::ThreadWorker>("w"); });
          },
          {"ab", "ba"},
          1000,
          2,
          false};
}

Program team_order() {
  return {"team of two: two submitters",
          [] {
            return two_submitters([] {
              runtime::Team::Options o;
              o.max_workers = 2;
              return std::make_unique<runtime::Team>(o);
            });
          },
          {"ab", "ba"},
          1000,
          2,
          false};
}

Program lock_worker_order() {
  return {"lock worker: two submitters",
          [] {
            sim::Mutex lock("lw");
            return two_submitters([&lock] {
              return std::make_unique<runtime::LockWorker>(lock);
            });
          },
          {"ab", "ba"},
          1000,
          2,
          false};
}

// Two threads hand the reactor a call each; the second to arrive stops it.
Program reactor_two_callers() {
  return {"reactor: call_from_thread from two threads",
          [] {
            Reactor r;
            std::string log;
            auto call = [&](char c) {
              return [&, c] {
                log += c;
                if (log.size() == 2) r.stop();
              };
            };
            auto a = sim::spawn("a", [&] {
              jitter();
              r.call_from_thread(call('a'));
            });
            auto b = sim::spawn("b", [&] {
              jitter();
              r.call_from_thread(call('b'));
            });
            r.run();
            a.join();
            b.join();
            return log;
          },
          {"ab", "ba"},
          1000,
          2,
          false};
}

// A pool thread's result arrives on the reactor against a call another
// thread hands over.
Program reactor_deferred_against_a_call() {
  return {"reactor: a deferred result against another thread's call",
          [] {
            Reactor r;
            std::string log;
            auto note = [&](char c) {
              log += c;
              if (log.size() == 3) r.stop();
            };
            r.call_from_thread([&] {
              note('s');
              r.defer_to_thread([] {
                 jitter();
                 return 1;
               }).add_callback([&](const int&) { note('d'); });
            });
            auto other = sim::spawn("other", [&] {
              jitter();
              r.call_from_thread([&] { note('o'); });
            });
            r.run();
            other.join();
            return log;
          },
          {"sod", "sdo"},
          1000,
          2,
          false};
}

// Two clients call one service: its requests run one at a time, in the
// order the messages arrive.
Program service_two_callers() {
  return {"service: two clients call one service",
          [] {
            runtime::Node node;
            const auto svc = node.add_service({.name = "log"});
            std::string log;
            node.on(svc, "add",
                    [&](runtime::Request& r) -> runtime::Task<std::string> {
                      log += r.payload();
                      co_return log;
                    });
            auto other = sim::spawn("client-b", [&] {
              jitter();
              node.call(svc, "add", "b");
            });
            jitter();
            node.call(svc, "add", "a");
            other.join();
            return log;
          },
          {"ab", "ba"},
          1000,
          2,
          false};
}

std::vector<Program> programs() {
  return {thread_worker_order(),
          team_order(),
          lock_worker_order(),
          reactor_two_callers(),
          reactor_deferred_against_a_call(),
          service_two_callers()};
}

class Differential : public ::testing::TestWithParam<Program> {};

TEST_P(Differential, EveryRealOutcomeIsReachableAndOnlyLegalOnesAre) {
  expect_real_outcomes_reachable(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Components, Differential,
                         ::testing::ValuesIn(programs()),
                         [](const ::testing::TestParamInfo<Program>& param) {
                           return test_name(param.param);
                         });

}  // namespace
}  // namespace weft::test
