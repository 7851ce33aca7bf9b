#include "runtime/reactor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <string>

#include "sim/harness/gtest.h"
#include "sim/harness/schedule_trace.h"
#include "sim/weft.h"
#include "tests/runtime/both_worlds.h"
#include "tests/runtime/failures.h"

namespace weft::runtime {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test_support::failure_of;
using test_support::on_threads_and_simulated;
using test_support::reported_in_both_worlds;
using test_support::schedules;

// --- the reactor's contract ------------------------------------------------

TEST(Reactor, CallsFromOtherThreadsRunOnTheReactorInOrder) {
  on_threads_and_simulated([] {
    Reactor r;
    std::vector<int> seen;
    bool all_on_reactor = true;
    auto from = sim::spawn("caller", [&] {
      for (int i = 0; i < 3; ++i)
        r.call_from_thread([&, i] {
          all_on_reactor = all_on_reactor && r.is_reactor_thread();
          seen.push_back(i);
          if (i == 2) r.stop();
        });
    });
    r.run();
    from.join();
    WEFT_ASSERT(all_on_reactor);
    WEFT_ASSERT(seen == (std::vector<int>{0, 1, 2}));
  });
}

TEST(Reactor, TimersFireInDeadlineOrderAndACancelledOneNever) {
  on_threads_and_simulated([] {
    Reactor r;
    std::vector<int> fired;
    // 50 ms apart: on real threads a stall of that long between two of
    // these lines would reorder the deadlines.
    r.call_later(150ms, [&] { fired.push_back(3); });
    r.call_later(50ms, [&] { fired.push_back(1); });
    DelayedCall never = r.call_later(100ms, [&] { fired.push_back(99); });
    r.call_later(100ms, [&] { fired.push_back(2); });
    r.call_later(200ms, [&] { r.stop(); });
    WEFT_ASSERT(never.active());
    WEFT_ASSERT(never.cancel());
    WEFT_ASSERT(!never.cancel());
    r.run();
    WEFT_ASSERT(fired == (std::vector<int>{1, 2, 3}));
  });
}

TEST(Reactor, DeferToThreadDeliversTheResultOrTheErrorOnTheReactor) {
  on_threads_and_simulated([] {
    Reactor r;
    int result = 0;
    std::string error;
    bool callbacks_on_reactor = true;
    r.call_from_thread([&] {
      r.defer_to_thread([] { return 6 * 7; }).add_callback([&](const int& v) {
        callbacks_on_reactor = callbacks_on_reactor && r.is_reactor_thread();
        result = v;
      });
      r.defer_to_thread([]() -> int {
         throw std::runtime_error("no route");
       }).add_errback([&](std::exception_ptr e) {
        callbacks_on_reactor = callbacks_on_reactor && r.is_reactor_thread();
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          error = ex.what();
        }
      });
    });
    // Poll until both arrived, then stop.
    std::function<void()> poll = [&] {
      if (result != 0 && !error.empty())
        r.stop();
      else
        r.call_later(1ms, poll);
    };
    r.call_later(1ms, poll);
    r.run();
    WEFT_ASSERT(result == 42);
    WEFT_ASSERT(error == "no route");
    WEFT_ASSERT(callbacks_on_reactor);
  });
}

TEST(Reactor, DeferToThreadDeliversAnyThrownValueToTheErrback) {
  on_threads_and_simulated([] {
    Reactor r;
    int thrown = 0;
    r.call_from_thread([&] {
      r.defer_to_thread([]() -> int {
         throw 7;
       }).add_errback([&](std::exception_ptr e) {
        try {
          std::rethrow_exception(e);
        } catch (int v) {
          thrown = v;
        }
        r.stop();
      });
    });
    r.run();
    WEFT_ASSERT(thrown == 7);
  });
}

TEST(Reactor, BlockingCallFromThreadReturnsRethrowsAndWaitsForADeferred) {
  on_threads_and_simulated([] {
    Reactor r;
    int got = 0, got_later = 0;
    std::string thrown;
    auto caller = sim::spawn("caller", [&] {
      got = r.blocking_call_from_thread([&] { return 7; });
      try {
        r.blocking_call_from_thread(
            []() -> int { throw std::runtime_error("refused"); });
      } catch (const std::runtime_error& e) {
        thrown = e.what();
      }
      // A Deferred fired later by a reactor timer.
      got_later = r.blocking_call_from_thread([&] {
        Deferred<int> d;
        r.call_later(5ms, [d]() mutable { d.callback(9); });
        return d;
      });
      r.call_from_thread([&] { r.stop(); });
    });
    r.run();
    caller.join();
    WEFT_ASSERT(got == 7);
    WEFT_ASSERT(thrown == "refused");
    WEFT_ASSERT(got_later == 9);
  });
}

TEST(Reactor, BlockingCallFromTheReactorThreadItselfIsRefused) {
  on_threads_and_simulated([] {
    Reactor r;
    bool refused = false;
    r.call_from_thread([&] {
      try {
        r.blocking_call_from_thread([] { return 1; });
      } catch (const ReactorThreadError& e) {
        refused = std::string(e.what()).find("it would wait for itself") !=
                  std::string::npos;
      }
      r.stop();
    });
    r.run();
    WEFT_ASSERT(refused);
  });
}

TEST(Reactor, BlockingCallFromThreadRethrowsAnyThrownValueToTheCaller) {
  on_threads_and_simulated([] {
    Reactor r;
    int caught = 0;
    auto caller = sim::spawn("caller", [&] {
      try {
        r.blocking_call_from_thread([]() -> int { throw 42; });
      } catch (int v) {
        caught = v;
      }
      r.call_from_thread([&] { r.stop(); });
    });
    r.run();
    caller.join();
    WEFT_ASSERT(caught == 42);
  });
}

// The errors of calls the reactor runs itself are reported as Twisted logs
// them: printed on real threads while the loop goes on, a failure of the
// schedule in a simulation. `site` throws 42 and `then` stops the reactor.
void expect_reported_and_loop_goes_on(
    const std::function<void(Reactor&, std::function<void()>)>& site,
    const std::string& report) {
  const auto r = reported_in_both_worlds([&] {
    Reactor reactor;
    bool stopped_by_a_later_call = false;
    site(reactor, [&] {
      stopped_by_a_later_call = true;
      reactor.stop();
    });
    reactor.run();
    WEFT_ASSERT(stopped_by_a_later_call);
  });
  EXPECT_THAT(r.printed, HasSubstr(report));
  ASSERT_TRUE(r.simulated.failed());
  EXPECT_EQ(r.simulated.failure->kind, sim::FailureKind::kException);
  EXPECT_THAT(r.simulated.failure->message, HasSubstr(report));
}

TEST(Reactor, AnyValueThrownByACallFromThreadIsReportedAndTheLoopGoesOn) {
  expect_reported_and_loop_goes_on(
      [](Reactor& r, std::function<void()> then) {
        r.call_from_thread([] { throw 42; });
        r.call_from_thread(std::move(then));
      },
      "a call on reactor 'reactor' threw int");
}

TEST(Reactor, AnyValueThrownByADelayedCallIsReportedAndTheLoopGoesOn) {
  expect_reported_and_loop_goes_on(
      [](Reactor& r, std::function<void()> then) {
        r.call_later(1ms, [] { throw 42; });
        r.call_later(2ms, std::move(then));
      },
      "a call on reactor 'reactor' threw int");
}

TEST(Reactor, AnyValueThrownInThePoolIsReportedAndThePoolGoesOn) {
  expect_reported_and_loop_goes_on(
      [](Reactor& r, std::function<void()> then) {
        r.suggest_thread_pool_size(1);
        r.call_in_thread([] { throw 42; });
        r.call_in_thread([&r, then] { r.call_from_thread(then); });
      },
      "work on pool 'reactor-pool' worker 1 threw int");
}

TEST(Reactor, SuggestedPoolSizeBoundsThePool) {
  weft::testing::explore(schedules(300), [] {
    Reactor r;
    r.suggest_thread_pool_size(2);
    sim::Latch hold(1, "hold");
    for (int i = 0; i < 4; ++i) r.call_in_thread([&] { hold.wait(); });
    r.call_later(1ms, [&] {
      const TeamStatistics s = r.thread_pool().statistics();
      WEFT_ASSERT(s.busy + s.idle == 2);
      WEFT_ASSERT(s.busy + s.backlog == 4);
      hold.count_down();
      r.stop();
    });
    r.run();
  });
}

// --- 1. the wedged pool ------------------------------------------------------

// A queue whose get() blocks until something is put (Twisted's
// DeferredQueue used from threads): named, so reports say what waits.
class BlockingQueue {
 public:
  explicit BlockingQueue(std::string name)
      : mu_(name + " lock"), ready_(std::move(name)) {}
  void put(int v) {
    std::lock_guard lk(mu_);
    items_.push_back(v);
    ready_.notify_all();
  }
  int get() {
    std::unique_lock lk(mu_);
    ready_.wait(lk, [&] { return !items_.empty(); });
    const int v = items_.front();
    items_.pop_front();
    return v;
  }

 private:
  sim::Mutex mu_;
  sim::CondVar ready_;
  std::deque<int> items_;
};

// Twisted's threading docs: with a pool of X threads, X blockers that each
// wait for the queue fill the pool, and the unblocker that would fill the
// queue never gets a thread.
constexpr int kPoolSize = 3;
void wedged_pool() {
  Reactor r;
  r.suggest_thread_pool_size(kPoolSize);
  BlockingQueue queue("unblock-queue");
  for (int i = 0; i < kPoolSize; ++i) r.call_in_thread([&] { queue.get(); });
  r.call_in_thread([&] {
    for (int i = 0; i < kPoolSize; ++i) queue.put(i);
  });
  r.call_later(1s, [&] { r.stop(); });
  r.run();
}

// As a test in a CI job runs it: WEFT_* variables apply, so the printed
// command selects the schedule.
sim::ExploreOptions as_in_ci() {
  sim::ExploreOptions o = schedules(100);
  o.use_environment = true;
  return o;
}

TEST(WedgedPool, IsFoundAsADeadlockListingEveryBlockedStrand) {
  const auto r = weft::testing::find_failure(as_in_ci(), wedged_pool);
  ASSERT_TRUE(r.failed()) << "weft did not find the wedged pool";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  const std::string& m = r.failure->message;
  for (int i = 1; i <= kPoolSize; ++i)
    EXPECT_THAT(m, HasSubstr("strand 'reactor-pool-" + std::to_string(i) +
                             "' (#" + std::to_string(i) +
                             ") waits to be notified by condvar "
                             "'unblock-queue'"))
        << m;
  // The reactor was told to stop after a second, and its shutdown waits
  // for a pool that will never finish.
  EXPECT_THAT(m, HasSubstr("strand 'main' (#0) waits to be notified by "
                           "condvar 'reactor-pool shutdown'"));
  // Only the pool of X: the unblocker never got a strand.
  EXPECT_THAT(m, ::testing::Not(HasSubstr("reactor-pool-4")));
  EXPECT_THAT(r.replay_command, HasSubstr("WEFT_SEED="));
}

// Runs `command` in a shell and returns what it printed.
std::string run_command(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  return out;
}

TEST(WedgedPool, ThePrintedReplayCommandsReproduceItInANewProcess) {
  sim::ExploreOptions o = as_in_ci();
  o.trace_dir = ::testing::TempDir() + "weft-wedged";
  // The commands run another test with the same body: the trace names
  // that test, since WEFT_REPLAY replays only in the test it names.
  o.name = "WedgedPool.IsFoundAsADeadlockListingEveryBlockedStrand";
  o.command = sim::this_program("runtime_test") + " --gtest_filter=" + o.name;
  const auto found = weft::testing::find_failure(o, wedged_pool);
  ASSERT_TRUE(found.failed());
  char digest[32];
  std::snprintf(digest, sizeof digest, "digest 0x%016llx",
                static_cast<unsigned long long>(found.digest));
  // By seed: the same schedule, digest for digest.
  const std::string by_seed = run_command(found.replay_command);
  EXPECT_THAT(by_seed, HasSubstr("deadlock after 1 schedule")) << by_seed;
  EXPECT_THAT(by_seed, HasSubstr(digest)) << by_seed;
  // By trace file: the shrunk schedule, the same deadlock.
  ASSERT_FALSE(found.trace_replay_command.empty());
  const std::string by_file = run_command(found.trace_replay_command);
  EXPECT_THAT(by_file, HasSubstr("deadlock after 1 schedule")) << by_file;
  EXPECT_THAT(by_file, HasSubstr("replayed from " + found.shrunk_trace_path));
  EXPECT_THAT(by_file, HasSubstr("condvar 'unblock-queue'"));
}

TEST(WedgedPool, APoolOneLargerThanTheBlockersDoesNotWedge) {
  weft::testing::explore(schedules(1000), [] {
    Reactor r;
    r.suggest_thread_pool_size(kPoolSize + 1);
    BlockingQueue queue("unblock-queue");
    sim::Atomic<int> unblocked{0};
    for (int i = 0; i < kPoolSize; ++i)
      r.call_in_thread([&] {
        queue.get();
        if (unblocked.fetch_add(1) == kPoolSize - 1)
          r.call_from_thread([&] { r.stop(); });
      });
    r.call_in_thread([&] {
      for (int i = 0; i < kPoolSize; ++i) queue.put(i);
    });
    r.run();
    WEFT_ASSERT(unblocked.load() == kPoolSize);
  });
}

// --- 2. a reactor-only method called from a pool thread --------------------

void write_from_pool(bool fixed) {
  Reactor r;
  Transport t(r, "client");
  r.call_in_thread([&] {
    const std::string reply = "pong";  // computed off the reactor
    if (fixed)
      r.call_from_thread([&, reply] { t.write(reply); });
    else
      t.write(reply);  // the bug: a transport is reactor-only
  });
  r.call_later(10ms, [&] { r.stop(); });
  r.run();
  if (fixed) WEFT_ASSERT(t.written() == "pong");
}

TEST(ReactorThread, IsTheThreadThatRunsItNotTheOneThatBuiltIt) {
  on_threads_and_simulated([] {
    Reactor r;  // built on main, run by another thread
    WEFT_ASSERT(!r.is_reactor_thread());
    bool queued_call_ran_on_reactor = false;
    // Before run(): queued, and run once the loop starts.
    r.call_from_thread(
        [&] { queued_call_ran_on_reactor = r.is_reactor_thread(); });
    auto runner = sim::spawn("reactor-thread", [&] { r.run(); });
    // From main, before or after run() starts: waits for the reactor.
    const bool ran_on_reactor =
        r.blocking_call_from_thread([&] { return r.is_reactor_thread(); });
    WEFT_ASSERT(ran_on_reactor);
    WEFT_ASSERT(!r.is_reactor_thread());
    r.call_from_thread([&] { r.stop(); });
    runner.join();
    WEFT_ASSERT(queued_call_ran_on_reactor);
  });
}

TEST(ReactorThread, AWriteFromAPoolThreadIsFound) {
  const auto r = weft::testing::find_failure(schedules(10),
                                             [] { write_from_pool(false); });
  ASSERT_TRUE(r.failed()) << "the write from the pool was not caught";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  EXPECT_THAT(r.failure->message,
              HasSubstr("Transport::write must be called on the reactor "
                        "thread (reactor 'reactor' is not running yet: until "
                        "run() starts, only strand 'main', which built it, "
                        "may call it), but strand 'reactor-pool-1' called "
                        "it"));
  EXPECT_EQ(r.failure->strand, "reactor-pool-1");
}

TEST(ReactorThread, HandingTheWriteToTheReactorPasses1000Schedules) {
  const auto r =
      weft::testing::explore(schedules(1000), [] { write_from_pool(true); });
  EXPECT_EQ(r.schedules, 1000u);
}

TEST(ReactorThread, OnRealThreadsTheErrorNamesTheMethod) {
  Reactor r;
  Transport t(r, "client");
  std::string error;
  r.call_from_thread([&] {
    r.defer_to_thread([&] {
       t.write("x");
     }).add_errback([&](std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const ReactorThreadError& ex) {
        error = ex.what();
      }
      r.stop();
    });
  });
  r.run();
  EXPECT_THAT(error, HasSubstr("Transport::write must be called on the "
                               "reactor thread"));
  // call_later from another thread names itself too.
  std::string from_thread;
  auto other = sim::spawn("other", [&] {
    try {
      r.call_later(1ms, [] {});
    } catch (const ReactorThreadError& e) {
      from_thread = e.what();
    }
  });
  other.join();
  EXPECT_THAT(from_thread, HasSubstr("Reactor::call_later must be called on "
                                     "the reactor thread"));
}

// --- 3. an intermittent failure ----------------------------------------------

// A page is assembled from two parts fetched on the pool. The buggy
// version appends the parts as they arrive, assuming the header (asked for
// first) arrives first; the fixed one puts each part in its slot.
std::string assemble_page(bool fixed) {
  Reactor r;
  std::vector<std::string> parts(2);
  std::vector<std::string> arrived;
  auto got = [&](std::size_t slot, const std::string& part) {
    if (fixed)
      parts[slot] = part;
    else
      arrived.push_back(part);
    const std::size_t n =
        fixed ? (parts[0].empty() ? 0u : 1u) + (parts[1].empty() ? 0u : 1u)
              : arrived.size();
    if (n == 2) r.stop();
  };
  r.call_from_thread([&] {
    r.defer_to_thread([] {
       return std::string("header");
     }).add_callback([&](const std::string& p) { got(0, p); });
    r.defer_to_thread([] {
       return std::string("body");
     }).add_callback([&](const std::string& p) { got(1, p); });
  });
  r.run();
  return fixed ? parts[0] + "|" + parts[1] : arrived[0] + "|" + arrived[1];
}

TEST(IntermittentOrder, PassesMostRealRunsButWeftFindsTheRace) {
  // Real threads: the header's worker starts first and usually wins.
  constexpr int kRuns = 1000;
  int passed = 0;
  for (int i = 0; i < kRuns; ++i)
    if (assemble_page(false) == "header|body") ++passed;
  std::printf("real threads: %d of %d runs passed (%.1f%%)\n", passed, kRuns,
              100.0 * passed / kRuns);
  RecordProperty("real_runs_passed", passed);

  // Simulated: found deterministically, from a fixed seed.
  sim::ExploreOptions o = schedules(200);
  o.seed = 0;
  const auto r = weft::testing::find_failure(
      o, [] { WEFT_ASSERT(assemble_page(false) == "header|body"); });
  ASSERT_TRUE(r.failed()) << "weft missed the reordered replies";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  std::printf("weft found it after %llu schedules (strategy %s, seed %llu)\n",
              static_cast<unsigned long long>(r.schedules), r.strategy.c_str(),
              static_cast<unsigned long long>(r.seed));
  // Same seed, same finding: the search is deterministic.
  const auto again = weft::testing::find_failure(
      o, [] { WEFT_ASSERT(assemble_page(false) == "header|body"); });
  EXPECT_EQ(again.schedules, r.schedules);
  EXPECT_EQ(again.digest, r.digest);
}

TEST(IntermittentOrder, TheFixedPagePasses2000SchedulesOfEachStrategy) {
  for (const char* strategy : {"pct", "random"}) {
    sim::ExploreOptions o = schedules(2000);
    o.strategy = strategy;
    const auto r = weft::testing::explore(
        o, [] { WEFT_ASSERT(assemble_page(true) == "header|body"); });
    EXPECT_EQ(r.schedules, 2000u) << strategy;
  }
  EXPECT_EQ(assemble_page(true), "header|body");
}

// --- 4. a deadlock while the destructor waits --------------------------------

TEST(Reactor, DeadlockInsideItsDestructorIsReportedNotAborted) {
  const auto r = failure_of([] {
    sim::Latch never(1, "never");
    Reactor reactor;
    reactor.call_in_thread([&] { never.wait(); });
  });  // ~Reactor stops its pool and waits for a job that never ends
  ASSERT_TRUE(r.failed()) << "the deadlock was not found";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message,
              HasSubstr("strand 'reactor-pool-1' (#1) waits to pass latch "
                        "'never'"));
  EXPECT_THAT(r.failure->message,
              HasSubstr("strand 'main' (#0) waits to be notified by condvar "
                        "'reactor-pool shutdown'"));
  EXPECT_THAT(r.replay_command, HasSubstr("seed = " + std::to_string(r.seed)));
}

TEST(Reactor, SameSeedSameSchedule) {
  test_support::expect_same_schedule_per_seed([] { assemble_page(true); }, 300);
}

}  // namespace
}  // namespace weft::runtime
