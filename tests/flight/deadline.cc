// A reactor that answers a request from its worker pool or, if the pool is
// too slow, with a timeout (call_later). The timeout handler forgets to
// stop the late answer, so when the timer fires first and the answer then
// arrives the request is answered twice. Whether it happens depends on the
// clock: the readings the reactor takes decide whether its timer is due
// before the answer's call_from_thread. flight_test records runs until one
// fails and replays it.
#include <chrono>
#include <cstdio>

#include "runtime/reactor.h"
#include "sim/check.h"
#include "sim/clock.h"
#include "sim/harness/flight/flight.h"

namespace {

using namespace std::chrono_literals;

void busy_for(weft::sim::Clock::duration d) {
  const auto until = weft::sim::Clock::now() + d;
  while (weft::sim::Clock::now() < until) {
  }
}

void body() {
  weft::runtime::Reactor reactor({.name = "app", .thread_pool_size = 2});
  int answers = 0;
  reactor.call_from_thread([&] {
    auto timeout = std::make_shared<weft::runtime::DelayedCall>();
    reactor
        .defer_to_thread([] {
          busy_for(1000us);
          return 42;
        })
        .add_callback([&, timeout](const int&) {
          ++answers;
          timeout->cancel();
        });
    // BUG: the timeout answers but leaves the late result to answer again.
    *timeout = reactor.call_later(1500us, [&] { ++answers; });
    reactor.call_later(5ms, [&] { reactor.stop(); });
  });
  reactor.run();
  WEFT_ASSERT_MSG(answers == 1, "the request was answered " +
                                    std::to_string(answers) + " times");
}

}  // namespace

int main(int argc, char** argv) {
  return weft::sim::flight::run(argc, argv, body);
}
