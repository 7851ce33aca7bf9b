// Twisted's threading guide, "Running code in a thread":
//
//   def aSillyBlockingMethod(x):
//       import time
//       time.sleep(2)
//       print(x)
//   reactor.callInThread(aSillyBlockingMethod, "2 seconds have passed")
//   reactor.run()
//
// The same in C++ with weft. The program runs it twice: on real threads
// (really waiting), then under weft's scheduler, where the two seconds are
// virtual and every schedule must print the same thing.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "runtime/reactor.h"
#include "sim/harness/explore.h"
#include "sim/weft.h"

using namespace std::chrono_literals;

std::string silly_blocking(std::chrono::milliseconds delay) {
  weft::runtime::Reactor reactor;
  std::string printed;
  auto a_silly_blocking_method = [&](const std::string& x) {
    weft::sleep_for(delay);  // blocks a pool thread, never the reactor
    reactor.call_from_thread([&, x] {
      printed += x + "\n";
      reactor.stop();
    });
  };
  reactor.call_in_thread(
      [&] { a_silly_blocking_method("2 seconds have passed"); });
  reactor.run();
  return printed;
}

int main(int argc, char** argv) {
  // --quick: a short real delay, for the test suite.
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::string real = silly_blocking(quick ? 20ms : 2000ms);
  std::printf("real threads: %s", real.c_str());

  weft::sim::ExploreOptions options;
  options.iterations = 200;
  const auto result = weft::sim::explore(options, [] {
    const std::string out = silly_blocking(2000ms);
    WEFT_ASSERT(out == "2 seconds have passed\n");
    WEFT_ASSERT(weft::sim::Clock::now().time_since_epoch() >= 2s);
  });
  std::printf(
      "simulated: %llu schedules, each printed the same after 2 "
      "virtual seconds\n",
      static_cast<unsigned long long>(result.schedules));
  return real == "2 seconds have passed\n" && !result.failed() ? 0 : 1;
}
