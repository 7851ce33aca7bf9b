// Twisted's threading guide, "Getting results":
//
//   def largeFibonnaciNumber():
//       target = 10000
//       first, second = 0, 1
//       for i in range(target - 1):
//           new = first + second
//           first, second = second, new
//       return second
//   def fibonacciCallback(result):
//       print("largeFibonnaciNumber result =", result)
//       reactor.stop()
//   d = threads.deferToThread(largeFibonnaciNumber)
//   d.addCallback(fibonacciCallback)
//   reactor.run()
//
// In C++ the number is taken modulo 2^64 (unsigned overflow wraps), which
// keeps the point: the work runs on a pool thread and its result comes
// back to the reactor thread through a Deferred.
#include <cstdint>
#include <cstdio>
#include <string>

#include "runtime/reactor.h"
#include "sim/harness/explore.h"
#include "sim/weft.h"

std::uint64_t large_fibonacci_number() {
  std::uint64_t first = 0, second = 1;
  for (int i = 0; i < 10000 - 1; ++i) {
    const std::uint64_t next = first + second;
    first = second;
    second = next;
  }
  return second;
}

std::string fibonacci_on_a_thread() {
  weft::runtime::Reactor reactor;
  std::string printed;
  reactor.call_from_thread([&] {
    reactor.defer_to_thread(large_fibonacci_number)
        .add_callback([&](const std::uint64_t& result) {
          // Callbacks run on the reactor thread.
          WEFT_ASSERT(reactor.is_reactor_thread());
          printed = "largeFibonnaciNumber result = " + std::to_string(result);
          reactor.stop();
        });
  });
  reactor.run();
  return printed;
}

int main() {
  const std::string real = fibonacci_on_a_thread();
  std::printf("real threads: %s\n", real.c_str());
  weft::sim::ExploreOptions options;
  options.iterations = 200;
  const auto result = weft::sim::explore(
      options, [&] { WEFT_ASSERT(fibonacci_on_a_thread() == real); });
  std::printf("simulated: %llu schedules, the same result each time\n",
              static_cast<unsigned long long>(result.schedules));
  return result.failed() ? 1 : 0;
}
