// Coroutine services: where a handler's errors go, message types that are
// the user's alone, and a sleep that a wakeup cuts short.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "runtime/service.h"
#include "sim/harness/gtest.h"
#include "sim/weft.h"
#include "tests/runtime/both_worlds.h"

namespace weft::runtime {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test_support::on_threads_and_simulated;
using test_support::schedules;

// --- errors ------------------------------------------------------------------

TEST(Service, AHandlerThrowingANonStandardExceptionAnswersTheCallWithAnError) {
  on_threads_and_simulated([] {
    Node node;
    const auto s = node.add_service({"s", false});
    const auto client = node.add_service({"client", false});
    node.on(s, "boom", [](Request&) -> Task<std::string> {
      throw 42;
      co_return "";
    });
    node.on(client, "ask", [s](Request& r) -> Task<std::string> {
      try {
        co_await r.call(s, "boom", "");
      } catch (const CallError& e) {
        co_return std::string("caught: ") + e.what();
      }
      co_return "no error";
    });
    std::string error;
    try {
      node.call(s, "boom", "");
    } catch (const CallError& e) {
      error = e.what();
    }
    WEFT_ASSERT_MSG(error ==
                        "handler of 'boom' on service 's' threw an "
                        "exception of type int",
                    error);
    const std::string got = node.call(client, "ask", "");
    WEFT_ASSERT_MSG(got ==
                        "caught: handler of 'boom' on service 's' threw "
                        "an exception of type int",
                    got);
  });
}

// A send's handler throws (`thrown` picks what): nobody can receive the
// error, so it is reported: printed on real threads, a failure of the
// schedule in a simulation. The call after it to the same service
// returns once the send has been handled.
void send_that_throws(int thrown) {
  Node node;
  const auto s = node.add_service({"s", false});
  node.on(s, "boom", [thrown](Request&) -> Task<std::string> {
    if (thrown == 0) throw std::runtime_error("out of cheese");
    throw thrown;
    co_return "";
  });
  node.on(s, "ping", [](Request&) -> Task<std::string> { co_return "pong"; });
  node.send(s, "boom", "");
  WEFT_ASSERT(node.call(s, "ping", "") == "pong");
}

// The same report in both worlds: on stderr, and as the failure.
void expect_reported(const std::function<void()>& body,
                     const std::string& report) {
  ::testing::internal::CaptureStderr();
  body();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("weft: " + report + "\n"));
  const auto r = weft::testing::find_failure(schedules(20), body);
  ASSERT_TRUE(r.failed()) << "not reported in the simulation";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kException);
  EXPECT_EQ(r.failure->message, report);
}

TEST(Service, AnExceptionFromASentRequestIsReportedInBothWorlds) {
  expect_reported([] { send_that_throws(0); },
                  "handler of 'boom' on service 's' threw: out of cheese");
  expect_reported(
      [] { send_that_throws(7); },
      "handler of 'boom' on service 's' threw an exception of type int");
}

TEST(Service, ASendToATypeWithNoHandlerIsReportedInBothWorlds) {
  expect_reported(
      [] {
        Node node;
        const auto s = node.add_service({"s", false});
        node.on(s, "ping",
                [](Request&) -> Task<std::string> { co_return "pong"; });
        node.send(s, "nope", "");
        WEFT_ASSERT(node.call(s, "ping", "") == "pong");
      },
      "service 's' has no handler for 'nope' (a send from the host, "
      "dropped)");
}

// A WEFT_ASSERT in a handler aborts its strand (sim::StrandAborted, not
// a std::exception): the run fails with the assertion, and the caller
// never sees it as a CallError.
TEST(Service, AFailedAssertionInAHandlerIsNotDeliveredToTheCaller) {
  bool delivered = false;
  const auto found = weft::testing::find_failure(schedules(20), [&] {
    Node node;
    const auto s = node.add_service({"s", false});
    const auto client = node.add_service({"client", false});
    node.on(s, "check", [](Request& r) -> Task<std::string> {
      WEFT_ASSERT_MSG(r.payload() == "good", "a bad payload");
      co_return "";
    });
    node.on(client, "ask", [&, s](Request& r) -> Task<std::string> {
      try {
        co_await r.call(s, "check", "bad");
      } catch (...) {
        delivered = true;
        throw;
      }
      co_return "";
    });
    node.call(client, "ask", "");
  });
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_THAT(found.failure->message, HasSubstr("a bad payload"));
  EXPECT_FALSE(delivered);
}

// A handler's strand cancelled at teardown (sim::StrandCancelled, thrown
// out of burn()'s virtual sleep) unwinds it: the run's failure stays the
// assertion that ended it, not an error of the handler.
TEST(Service, ACancelledHandlerIsNotReportedAsAnError) {
  const auto found = weft::testing::find_failure(schedules(20), [] {
    Node node;
    const auto s = node.add_service({"s", false});
    node.on(s, "spin", [](Request& r) -> Task<std::string> {
      r.burn(std::chrono::hours(1));
      co_return "";
    });
    node.send(s, "spin", "");
    sim::sleep_for(1s);
    WEFT_ASSERT_MSG(false, "the end");
  });
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_THAT(found.failure->message, HasSubstr("the end"));
}

// --- message types
// -------------------------------------------------------------

TEST(Service, ForkIsAnOrdinaryMessageType) {
  on_threads_and_simulated([] {
    Node node;
    // Serialised: a request that never counted as finished would hold
    // the next one back for ever.
    const auto s = node.add_service({"s", true});
    node.on(s, "fork", [](Request& r) -> Task<std::string> {
      co_return "forked " + r.payload();
    });
    WEFT_ASSERT(node.call(s, "fork", "1") == "forked 1");
    WEFT_ASSERT(node.call(s, "fork", "2") == "forked 2");
  });
}

// --- sleep and wakeup
// -----------------------------------------------------------

TEST(Service, AWakeupInterruptsASleepWhichSaysSo) {
  on_threads_and_simulated([] {
    Node node;
    const auto s = node.add_service({"s", false});
    node.on(s, "nap", [](Request& r) -> Task<std::string> {
      const std::uint64_t me = r.coroutine();
      r.fork([me](Request& f) -> Task<void> {
        co_await f.sleep(1ms);
        f.wakeup(me);
      });
      const auto start = sim::Clock::now();
      const SleepResult first = co_await r.sleep(10s);
      const auto woken_after = sim::Clock::now() - start;
      // The interrupted sleep's timer must not cut the next one short.
      const SleepResult second = co_await r.sleep(50ms);
      const auto total = sim::Clock::now() - start;
      WEFT_ASSERT(woken_after < 5s);
      WEFT_ASSERT(total >= woken_after + 50ms);
      co_return std::string(first == SleepResult::kWokenUp ? "woken"
                                                           : "slept") +
          "," + (second == SleepResult::kElapsed ? "elapsed" : "woken");
    });
    const std::string got = node.call(s, "nap", "");
    WEFT_ASSERT_MSG(got == "woken,elapsed", got);
  });
}

}  // namespace
}  // namespace weft::runtime
