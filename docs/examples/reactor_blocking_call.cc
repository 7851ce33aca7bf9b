// Twisted's threading guide, "Utility methods", blockingCallFromThread:
//
//   def inThread():
//       try:
//           result = threads.blockingCallFromThread(
//               reactor, getPage, "http://twistedmatrix.com/")
//       except Error as exc:
//           print(exc)
//       else:
//           print(result)
//       reactor.callFromThread(reactor.stop)
//   reactor.callInThread(inThread)
//   reactor.run()
//
// getPage is an asynchronous call of the reactor that returns a Deferred;
// here a stand-in answers after 100 ms of reactor time. The pool thread
// blocks until the Deferred fires, then goes on with the result.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "runtime/reactor.h"
#include "sim/harness/explore.h"
#include "sim/weft.h"

using namespace std::chrono_literals;
using weft::runtime::Deferred;
using weft::runtime::Reactor;

// Must run on the reactor thread (call_later is reactor-only).
Deferred<std::string> get_page(Reactor& reactor, const std::string& url) {
  Deferred<std::string> d;
  reactor.call_later(100ms, [d, url]() mutable {
    if (url.starts_with("http://"))
      d.callback("<html>" + url + "</html>");
    else
      d.errback(std::make_exception_ptr(
          std::invalid_argument("unsupported URL " + url)));
  });
  return d;
}

std::string fetch_in_thread(const std::string& url) {
  Reactor reactor;
  std::string printed;
  reactor.call_in_thread([&] {
    try {
      printed = reactor.blocking_call_from_thread(
          [&] { return get_page(reactor, url); });
    } catch (const std::exception& e) {
      printed = e.what();
    }
    reactor.call_from_thread([&] { reactor.stop(); });
  });
  reactor.run();
  return printed;
}

int main() {
  const std::string page = fetch_in_thread("http://twistedmatrix.com/");
  const std::string error = fetch_in_thread("gopher://example");
  std::printf("real threads: %s / %s\n", page.c_str(), error.c_str());
  weft::sim::ExploreOptions options;
  options.iterations = 200;
  const auto result = weft::sim::explore(options, [&] {
    WEFT_ASSERT(fetch_in_thread("http://twistedmatrix.com/") == page);
    WEFT_ASSERT(fetch_in_thread("gopher://example") == error);
  });
  std::printf("simulated: %llu schedules, the same page and error\n",
              static_cast<unsigned long long>(result.schedules));
  return page == "<html>http://twistedmatrix.com/</html>" &&
                 error == "unsupported URL gopher://example" && !result.failed()
             ? 0
             : 1;
}
