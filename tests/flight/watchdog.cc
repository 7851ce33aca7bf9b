// A reactor that answers a request from its worker pool, guarded by a
// watchdog: a weft::call_after timer (the process's timer thread on real
// threads, the timer strand in a simulation) that answers with a timeout
// if the pool is late. The answer cancels the watchdog but ignores what
// cancel() says, so when the watchdog fires first the request is answered
// twice. Whether it does is the timer thread's order against the pool's:
// the replay must fire the recorded timer at the recorded point.
// flight_test records runs until one fails and replays it.
#include <chrono>
#include <string>

#include "runtime/reactor.h"
#include "sim/check.h"
#include "sim/clock.h"
#include "sim/harness/flight/flight.h"

namespace {

using namespace std::chrono_literals;

void body() {
  weft::runtime::Reactor reactor({.name = "app", .thread_pool_size = 2});
  int answers = 0;
  weft::sim::Timer watchdog;
  reactor.call_from_thread([&] {
    // The pool's work: a wait for I/O (a real sleep, which a replay ends
    // at once: what it decides is the order the recording holds).
    reactor
        .defer_to_thread([] {
          weft::sim::sleep_for(300us);
          return 42;
        })
        .add_callback([&](const int&) {
          watchdog.cancel();  // BUG: a false answer means "too late"
          ++answers;
        });
    watchdog = weft::sim::call_after(400us, [&] {
      reactor.call_from_thread([&] { ++answers; });  // the timeout answer
    });
    // Long after both answers: a stop before either (a cold first run on
    // a busy machine) would be a failure of another kind.
    reactor.call_later(20ms, [&] { reactor.stop(); });
  });
  reactor.run();
  WEFT_ASSERT_MSG(answers == 1, "the request was answered " +
                                    std::to_string(answers) + " times");
}

}  // namespace

int main(int argc, char** argv) {
  return weft::sim::flight::run(argc, argv, body);
}
