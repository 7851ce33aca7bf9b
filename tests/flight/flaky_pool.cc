// A reactor that hands two jobs to its worker pool. Each job counts itself
// done with a check-then-act on an Atomic (a load, some work, a store of
// the loaded value plus one) instead of one fetch_add: when the pool runs
// the two jobs at the same moment one count is lost and the reactor's
// check fails. On real threads that happens now and then, as the two
// worker threads start (about 1 run in 60 on an idle 2-core machine, less
// often under load, docs/guide.md); flight_test records runs until one
// fails and replays it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include "runtime/reactor.h"
#include "sim/atomic.h"
#include "sim/check.h"
#include "sim/harness/flight/flight.h"

namespace {

// Work the simulation does not see: it only widens the real race window.
void busy(int n) {
  volatile unsigned sink = 0;  // unsigned: the sum wraps, defined
  for (int i = 0; i < n; ++i) sink = sink + static_cast<unsigned>(i);
}

// `rounds` rounds of two jobs on one reactor, each round started when the
// previous one's results are in.
void body(int rounds) {
  weft::runtime::Reactor reactor({.name = "app", .thread_pool_size = 4});
  weft::sim::Atomic<int> done{0};
  const int work =
      std::getenv("FLAKY_WORK") ? std::atoi(std::getenv("FLAKY_WORK")) : 80000;
  const bool fixed = std::getenv("FLAKY_FIXED") != nullptr;
  // A real sleep between the load and the store (unseen by the simulation,
  // like busy()): a wider window, so that runs fail more often.
  const std::chrono::microseconds pause(
      std::getenv("FLAKY_PAUSE_US") ? std::atoi(std::getenv("FLAKY_PAUSE_US"))
                                    : 0);
  int results = 0;
  int round = 0;
  int seen_done = 2;
  std::function<void()> start = [&] {
    for (int job = 0; job < 2; ++job) {
      reactor
          .defer_to_thread([&done, work, fixed, pause] {
            if (fixed) return done.fetch_add(1);
            const int seen = done.load();
            busy(work);
            if (pause.count() > 0) std::this_thread::sleep_for(pause);
            done.store(seen + 1);  // BUG: a lost update; fetch_add is right
            return seen;
          })
          .add_callback([&](const int&) {
            if (++results < 2) return;
            results = 0;
            if (const int d = done.load(); d != 2) {
              seen_done = d;  // checked below, off the reactor thread
              reactor.stop();
              return;
            }
            done.store(0);
            if (++round == rounds)
              reactor.stop();
            else
              start();
          });
    }
  };
  reactor.call_from_thread(start);
  reactor.run();
  WEFT_ASSERT_MSG(seen_done == 2, "a job's completion was lost: done is " +
                                      std::to_string(seen_done));
}

}  // namespace

int main(int argc, char** argv) {
  // FLAKY_ROUNDS=n: n rounds (a long run for the kill test); FLAKY_FIXED:
  // the jobs use fetch_add (no bug); FLAKY_WORK: the jobs' busy work;
  // FLAKY_PAUSE_US: a real sleep inside the race window.
  const int rounds =
      std::getenv("FLAKY_ROUNDS") ? std::atoi(std::getenv("FLAKY_ROUNDS")) : 1;
  return weft::sim::flight::run(argc, argv, [rounds] { body(rounds); });
}
