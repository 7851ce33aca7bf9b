#include "runtime/isolate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "sim/harness/gtest.h"
#include "sim/weft.h"
#include "tests/runtime/both_worlds.h"
#include "tests/runtime/failures.h"

namespace weft::runtime {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test_support::failure_of;
using test_support::on_threads_and_simulated;
using test_support::schedules;

struct Point {
  int x = 0, y = 0;
  template <class A>
  void serialize(A& a) {
    a(x, y);
  }
  friend bool operator==(const Point&, const Point&) = default;
};

Module geometry() {
  return Module("geometry")
      .def("add",
           [](Point a, Point b) {
             return Point{a.x + b.x, a.y + b.y};
           })
      .def("fail",
           [](std::string why) -> int { throw std::invalid_argument(why); })
      .def("where", [] { return current_isolate()->id(); })
      .def("bump",
           [] {
             Isolate* self = current_isolate();
             const int n = self->get_global<int>("count").value_or(0) + 1;
             self->set_global("count", n);
             return n;
           })
      .global("count", 100);
}

TEST(Isolate, ACallRunsThereAndItsResultComesBackDeserialised) {
  on_threads_and_simulated([] {
    Isolate iso;
    iso.exec(geometry());
    iso.submit_call("add", Point{1, 2}, Point{10, 20});
    iso.wait();
    WEFT_ASSERT(iso.is_done());
    WEFT_ASSERT(!iso.last_error());
    WEFT_ASSERT((iso.last_retval<Point>() == Point{11, 22}));
  });
}

TEST(Isolate, AThrowingCallSetsLastErrorAndLeavesNoRetval) {
  on_threads_and_simulated([] {
    Isolate iso;
    iso.exec(geometry());
    iso.submit_call("add", Point{1, 1}, Point{1, 1});
    iso.wait();
    iso.submit_call("fail", std::string("no land"));
    iso.wait();
    const auto error = iso.last_error();
    WEFT_ASSERT(error.has_value());
    WEFT_ASSERT(error->type == "std::invalid_argument");
    WEFT_ASSERT(error->message == "no land");
    WEFT_ASSERT(!iso.last_retval<int>().has_value());
  });
}

TEST(Isolate, AnyThrownValueIsTheCallsLastErrorAndTheIsolateGoesOn) {
  on_threads_and_simulated([] {
    Isolate iso;
    iso.exec(Module("m")
                 .def("throw_int", []() -> int { throw 42; })
                 .def("twice", [](int n) { return 2 * n; }));
    iso.submit_call("throw_int");
    iso.wait();
    const auto error = iso.last_error();
    WEFT_ASSERT(error.has_value());
    WEFT_ASSERT(error->type == "int");
    WEFT_ASSERT(error->message ==
                "a value of type int was thrown (not a std::exception)");
    WEFT_ASSERT(!iso.last_retval<int>().has_value());
    iso.submit_call("twice", 21);  // the isolate is still there
    iso.wait();
    WEFT_ASSERT(!iso.last_error());
    WEFT_ASSERT(iso.last_retval<int>() == 42);
  });
}

// --- calls are checked against the function's parameters --------------------

Module arithmetic() {
  return Module("arithmetic")
      .def("add", [](int a, int b) { return a + b; })
      .def("greet", [](const std::string& who) { return "hello " + who; });
}

// Calls `function` with `args` and returns the TypeError it must give.
template <class... Args>
std::string type_error_of(const std::string& function, const Args&... args) {
  Isolate iso;
  iso.exec(arithmetic());
  iso.submit_call(function, args...);
  iso.wait();
  const auto error = iso.last_error();
  WEFT_ASSERT(error.has_value());
  WEFT_ASSERT(error->type == "weft::runtime::IsolateTypeError");
  WEFT_ASSERT(!iso.last_retval<int>().has_value());
  return error->message;
}

TEST(IsolateCall, ArgumentsOfTheWrongTypeAreATypeError) {
  on_threads_and_simulated([] {
    WEFT_ASSERT(type_error_of("add", 1.5, 2.5) ==
                "TypeError: add() takes (int, int), got (double, double)");
    WEFT_ASSERT(type_error_of("greet", 7) ==
                "TypeError: greet() takes (std::string), got (int)");
  });
}

TEST(IsolateCall, TooManyArgumentsAreATypeError) {
  on_threads_and_simulated([] {
    WEFT_ASSERT(type_error_of("add", 1, 2, 3) ==
                "TypeError: add() takes 2 arguments (int, int), got 3 (int, "
                "int, int)");
  });
}

TEST(IsolateCall, TooFewArgumentsAreATypeError) {
  on_threads_and_simulated([] {
    WEFT_ASSERT(type_error_of("add", 1) ==
                "TypeError: add() takes 2 arguments (int, int), got 1 (int)");
    WEFT_ASSERT(type_error_of("add") ==
                "TypeError: add() takes 2 arguments (int, int), got 0 ()");
  });
}

TEST(IsolateCall, MatchingArgumentsStillRun) {
  on_threads_and_simulated([] {
    Isolate iso;
    iso.exec(arithmetic());
    iso.submit_call("add", 2, 3);
    iso.wait();
    WEFT_ASSERT(iso.last_retval<int>() == 5);
    iso.submit_call("greet", std::string("bob"));
    iso.wait();
    WEFT_ASSERT(iso.last_retval<std::string>() == "hello bob");
  });
}

TEST(Isolate, CallingAnUnknownFunctionIsAClearError) {
  Isolate iso;
  iso.exec(geometry());
  iso.submit_call("gen_world", 3);
  iso.wait();
  const auto error = iso.last_error();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->type, "weft::runtime::IsolateError");
  EXPECT_THAT(error->message,
              HasSubstr("no function 'gen_world' in isolate-1 (loaded: add, "
                        "bump, fail, where)"));
}

TEST(Isolate, AskingForTheWrongResultTypeIsAClearError) {
  Isolate iso;
  iso.exec(geometry());
  iso.submit_call("add", Point{}, Point{});
  iso.wait();
  try {
    iso.last_retval<int>();
    FAIL() << "a Point was read as an int";
  } catch (const IsolateError& e) {
    EXPECT_THAT(e.what(), HasSubstr("asked for int but 'add' returned "));
    EXPECT_THAT(e.what(), HasSubstr("Point"));
  }
}

TEST(Isolate, MoreThanTheLimitAtOnceIsAClearError) {
  EXPECT_EQ(Isolate::max_isolates(), 16u);
  {
    std::vector<std::unique_ptr<Isolate>> all;
    for (int i = 0; i < 16; ++i) all.push_back(std::make_unique<Isolate>());
    EXPECT_EQ(Isolate::live_isolates(), 16u);
    try {
      Isolate one_more;
      FAIL() << "a 17th isolate was created";
    } catch (const IsolateError& e) {
      EXPECT_THAT(e.what(), HasSubstr("16 exist, the most allowed at once"));
    }
  }
  // The limit is configurable.
  Isolate::set_max_isolates(2);
  {
    Isolate a, b;
    EXPECT_THROW(Isolate c, IsolateError);
  }
  Isolate::set_max_isolates(16);
  Isolate again;  // slots are free again once isolates are gone
  EXPECT_EQ(again.id(), 1);
}

TEST(Isolate, EachIsolateOwnsItsGlobalsAndCurrentIsolateSaysWhere) {
  on_threads_and_simulated([] {
    Isolate a, b;
    a.exec(geometry());
    b.exec(geometry());
    a.submit_call("bump");
    a.wait();
    a.submit_call("bump");
    a.wait();
    WEFT_ASSERT(a.last_retval<int>() == 102);
    b.submit_call("bump");
    b.wait();
    WEFT_ASSERT(b.last_retval<int>() == 101);  // b's own copy
    WEFT_ASSERT(a.get_global<int>("count") == 102);
    b.submit_call("where");
    b.wait();
    WEFT_ASSERT(b.last_retval<int>() == b.id());
    WEFT_ASSERT(current_isolate() == nullptr);  // the host is no isolate
  });
}

// --- the bug the scheduler finds ---------------------------------------------

// The isolate posts "100%" just before its call returns. The buggy host
// takes the message to mean the result is ready; the fixed host waits.
int load_level(bool fixed) {
  Isolate iso;
  iso.exec(Module("level").def("load", [](int n) {
    int sum = 0;
    for (int i = 1; i <= n; ++i) {
      sum += i;
      if (i % 5 == 0)
        current_isolate()->post(std::to_string(i * 100 / n) + "%");
    }
    return sum;
  }));
  iso.submit_call("load", 10);
  while (iso.receive() != "100%") {
  }
  if (fixed) iso.wait();
  return iso.last_retval<int>().value_or(-1);
}

TEST(IsolateHost, ReadingLastRetvalBeforeTheCallIsDoneIsFound) {
  sim::ExploreOptions o = schedules(200);
  o.use_environment = true;  // so the report prints runnable commands
  o.trace_dir = ::testing::TempDir() + "weft-isolate-traces";
  const auto r = weft::testing::find_failure(
      o, [] { WEFT_ASSERT(load_level(false) == 55); });
  ASSERT_TRUE(r.failed()) << "weft missed the early read";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_THAT(r.failure->message,
              HasSubstr("last_retval() read while 'load' is still running on "
                        "isolate-1: check is_done() or wait() first"));
  EXPECT_THAT(r.replay_command,
              HasSubstr("WEFT_SEED=" + std::to_string(r.seed)));
  EXPECT_THAT(r.trace_replay_command, HasSubstr("WEFT_REPLAY="));
  std::printf("found after %llu schedules (strategy %s)\n",
              static_cast<unsigned long long>(r.schedules), r.strategy.c_str());
  // The trace the command replays fails again, the same way, on the same
  // schedule.
  sim::ExploreOptions again = schedules(1);
  again.replay_file = r.trace_path;
  const auto replayed = weft::testing::find_failure(
      again, [] { WEFT_ASSERT(load_level(false) == 55); });
  ASSERT_TRUE(replayed.failed());
  EXPECT_EQ(replayed.failure->message, r.failure->message);
  EXPECT_EQ(replayed.digest, r.digest);
}

// A host that assumes a one-second job is done after a second submits
// the next call at the same virtual instant the job ends: either may
// come first.
int two_jobs(bool fixed) {
  Isolate iso;
  iso.exec(Module("jobs").def("slow", [](int n) {
    weft::sleep_for(1s);
    return n;
  }));
  iso.submit_call("slow", 1);
  weft::sleep_for(1s);
  if (fixed) iso.wait();
  iso.submit_call("slow", 2);
  iso.wait();
  return iso.last_retval<int>().value_or(-1);
}

TEST(IsolateHost, ASecondCallWhileOneRunsIsFoundInSimulation) {
  const auto r = weft::testing::find_failure(
      schedules(200), [] { WEFT_ASSERT(two_jobs(false) == 2); });
  ASSERT_TRUE(r.failed()) << "weft missed the second call";
  EXPECT_THAT(r.failure->message,
              HasSubstr("submit_call('slow') on isolate-1 while 'slow' is "
                        "still running"));
  std::printf("found after %llu schedules (strategy %s)\n",
              static_cast<unsigned long long>(r.schedules), r.strategy.c_str());
  for (const char* strategy : {"pct", "random"}) {
    const auto fixed = weft::testing::explore(
        schedules(2000, strategy), [] { WEFT_ASSERT(two_jobs(true) == 2); });
    EXPECT_EQ(fixed.schedules, 2000u) << strategy;
  }
}

TEST(IsolateHost, TheHostThatWaitsPasses2000SchedulesOfEachStrategy) {
  for (const char* strategy : {"pct", "random"}) {
    const auto r = weft::testing::explore(
        schedules(2000, strategy), [] { WEFT_ASSERT(load_level(true) == 55); });
    EXPECT_EQ(r.schedules, 2000u) << strategy;
  }
  EXPECT_EQ(load_level(true), 55);
}

TEST(IsolateHost, ASecondCallWhileOneRunsIsAnError) {
  // Real threads: the first call is held until the second was tried.
  Isolate iso;
  sim::Latch tried(1, "tried");
  iso.exec(Module("m").def("hold", [&tried] {
    tried.wait();
    return 1;
  }));
  iso.submit_call("hold");
  try {
    iso.submit_call("hold");
    ADD_FAILURE() << "a second call was accepted";
  } catch (const IsolateError& e) {
    EXPECT_THAT(e.what(), HasSubstr("while 'hold' is still running"));
  }
  tried.count_down();
  iso.wait();
  EXPECT_EQ(iso.last_retval<int>(), 1);
}

// --- two strands on one isolate's state
// ---------------------------------------

TEST(IsolateState, TheHostTouchingItDuringACallIsFound) {
  const auto r = weft::testing::find_failure(schedules(200), [] {
    Isolate iso;
    iso.exec(geometry());
    iso.submit_call("bump");
    iso.set_global("count", 0);  // the bug: the call may be running
    iso.wait();
  });
  ASSERT_TRUE(r.failed()) << "weft missed the shared touch";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_THAT(r.failure->message,
              HasSubstr("two strands touched the state of isolate-1 at once"));
}

TEST(IsolateState, OnRealThreadsTheTouchThrows) {
  Isolate iso;
  sim::Latch tried(1, "tried");
  iso.exec(Module("m").def("hold", [&tried] {
    current_isolate()->post("started");
    tried.wait();  // holds the state until the host has tried
  }));
  iso.submit_call("hold");
  EXPECT_EQ(iso.receive(), "started");
  try {
    iso.set_global("x", 1);
    ADD_FAILURE() << "the host wrote the state of a running isolate";
  } catch (const IsolateError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("two strands touched the state of isolate-1"));
    EXPECT_THAT(e.what(), HasSubstr("(set_global()) while thread"));
    EXPECT_THAT(e.what(), HasSubstr("(hold) held it"));
  }
  tried.count_down();
  iso.wait();
  EXPECT_FALSE(iso.last_error());
}

TEST(IsolateState, TwoStrandsDrivingOneIsolateAtOnceAreFound) {
  const auto r = weft::testing::find_failure(schedules(500), [] {
    Isolate iso;
    iso.exec(geometry());
    iso.submit_call("bump");
    auto other = sim::spawn("ui", [&] { iso.is_done(); });
    iso.wait();
    other.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_THAT(r.failure->message,
              HasSubstr("isolate-1 is driven by one strand at a time"));
}

// --- a deadlock while the destructor waits --------------------------------

TEST(Isolate, DeadlockInsideItsDestructorIsReportedNotAborted) {
  const auto r = failure_of([] {
    sim::Latch never(1, "never");
    Isolate iso(Isolate::Options{.name = "stuck"});
    iso.exec(Module("m").def("hang", [&never] { never.wait(); }));
    iso.submit_call("hang");
  });  // ~Isolate waits for a call that never returns
  ASSERT_TRUE(r.failed()) << "the deadlock was not found";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message,
              HasSubstr("strand 'stuck' (#1) waits to pass latch 'never'"));
  EXPECT_THAT(r.failure->message,
              HasSubstr("strand 'main' (#0) waits to join the end of strand "
                        "'stuck'"));
  EXPECT_THAT(r.report, HasSubstr("deadlock"));
  EXPECT_THAT(r.replay_command, HasSubstr("seed = " + std::to_string(r.seed)));
}

TEST(Isolate, SameSeedSameSchedule) {
  test_support::expect_same_schedule_per_seed([] { load_level(true); }, 100);
}

}  // namespace
}  // namespace weft::runtime
