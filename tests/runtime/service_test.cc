#include "runtime/service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/harness/gtest.h"
#include "sim/weft.h"
#include "tests/runtime/both_worlds.h"

namespace weft::runtime {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using test_support::on_threads_and_simulated;
using test_support::schedules;

// --- the basics
// ----------------------------------------------------------------

TEST(Service, ACallReadsLikeABlockingCallAndReturnsTheHandlersValue) {
  on_threads_and_simulated([] {
    Node node;
    const auto db = node.add_service({"db", false});
    const auto web = node.add_service({"web", false});
    node.on(db, "get", [](Request& r) -> Task<std::string> {
      co_return "value-of-" + r.payload();
    });
    node.on(web, "page", [db](Request& r) -> Task<std::string> {
      const std::string a = co_await r.call(db, "get", "a");
      const std::string b = co_await r.call(db, "get", "b");
      co_return a + "," + b;
    });
    WEFT_ASSERT(node.call(web, "page", "") == "value-of-a,value-of-b");
  });
}

TEST(Service, AHandlerThatThrowsAnswersTheCallWithAnError) {
  on_threads_and_simulated([] {
    Node node;
    const auto s = node.add_service({"s", false});
    node.on(s, "boom", [](Request&) -> Task<std::string> {
      throw std::runtime_error("out of cheese");
      co_return "";
    });
    std::string error;
    try {
      node.call(s, "boom", "");
    } catch (const CallError& e) {
      error = e.what();
    }
    WEFT_ASSERT(error ==
                "handler of 'boom' on service 's' threw: out of cheese");
    bool unknown = false;
    try {
      node.call(s, "nope", "");
    } catch (const CallError& e) {
      unknown = std::string(e.what()).find("no handler for 'nope'") !=
                std::string::npos;
    }
    WEFT_ASSERT(unknown);
  });
}

TEST(Service, ACallTimesOutWithACallError) {
  weft::testing::explore(schedules(200), [] {
    Node node;
    const auto slow = node.add_service({"slow", false});
    const auto client = node.add_service({"client", false});
    node.on(slow, "work", [](Request& r) -> Task<std::string> {
      co_await r.sleep(10s);
      co_return "late";
    });
    node.on(client, "go", [slow](Request& r) -> Task<std::string> {
      try {
        co_await r.call(slow, "work", "", 1s);
      } catch (const CallError& e) {
        co_return e.what();
      }
      co_return "no timeout";
    });
    const std::string got = node.call(client, "go", "");
    WEFT_ASSERT_MSG(got.find("timed out after 1s") != std::string::npos, got);
  });
}

TEST(Service, AServiceNeverRunsOnTwoThreadsAtOnce) {
  on_threads_and_simulated([] {
    Node::Options o;
    o.threads = 4;
    Node node(o);
    const auto s = node.add_service({"counter", false});
    sim::Atomic<int> inside{0};
    sim::Atomic<int> overlaps{0};
    int count = 0;  // plain int: safe only because the service is serial
    node.on(s, "inc", [&](Request& r) -> Task<std::string> {
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      ++count;
      inside.fetch_sub(1);
      co_await r.sleep(1ms);
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      ++count;
      inside.fetch_sub(1);
      co_return "";
    });
    std::vector<sim::JoinHandle> callers;
    for (int i = 0; i < 4; ++i)
      callers.push_back(sim::spawn([&] { node.call(s, "inc", ""); }));
    for (auto& c : callers) c.join();
    WEFT_ASSERT(overlaps.load() == 0);
    WEFT_ASSERT(count == 8);
  });
}

// skynet's newservice: a handler starts a service and calls it while other
// services run on other workers, which look services up without the
// node's lock. Under TSan this is the claim that adding one does not move
// the ones they are using.
TEST(Service, AHandlerCanAddAServiceWhileOthersRun) {
  on_threads_and_simulated([] {
    Node::Options o;
    o.threads = 3;
    Node node(o);
    const auto busy = node.add_service({"busy", false});
    const auto spawner = node.add_service({"spawner", false});
    int ticks = 0;  // only the busy service touches it
    node.on(busy, "tick", [&](Request&) -> Task<std::string> {
      ++ticks;
      co_return "";
    });
    node.on(busy, "count", [&](Request&) -> Task<std::string> {
      co_return std::to_string(ticks);
    });
    node.on(spawner, "spawn", [&](Request& r) -> Task<std::string> {
      const std::string name = "echo-" + r.payload();
      const auto echo = node.add_service({name, false});
      node.on(echo, "echo", [name](Request& e) -> Task<std::string> {
        co_return name + ":" + e.payload();
      });
      co_return co_await r.call(echo, "echo", r.payload());
    });
    constexpr int kServices = 40;  // past several growths of any vector
    sim::JoinHandle ticker = sim::spawn([&] {
      for (int i = 0; i < 200; ++i) node.send(busy, "tick", "");
    });
    for (int i = 0; i < kServices; ++i) {
      const std::string n = std::to_string(i);
      WEFT_ASSERT(node.call(spawner, "spawn", n) == "echo-" + n + ":" + n);
    }
    ticker.join();
    WEFT_ASSERT(node.call(busy, "count", "") == "200");
    WEFT_ASSERT(node.stats().size() == 2 + kServices);
  });
}

TEST(Service, ForkWaitAndWakeupHandOffInOneService) {
  on_threads_and_simulated([] {
    Node node;
    const auto s = node.add_service({"s", false});
    node.on(s, "go", [](Request& r) -> Task<std::string> {
      bool ready = false;
      const std::uint64_t me = r.coroutine();
      r.fork([&ready, me](Request& f) -> Task<void> {
        co_await f.sleep(5ms);
        ready = true;
        f.wakeup(me);
      });
      while (!ready) co_await r.wait();
      co_return "handed off";
    });
    WEFT_ASSERT(node.call(s, "go", "") == "handed off");
  });
}

// --- 1. an RPC cycle
// -----------------------------------------------------------

// A's "ping" calls B's "pong", which calls A's "echo".
std::string rpc_cycle(bool serialise) {
  Node node;
  const auto a = node.add_service({"A", serialise});
  const auto b = node.add_service({"B", false});
  node.on(a, "ping", [b](Request& r) -> Task<std::string> {
    co_return "ping(" + co_await r.call(b, "pong", "") + ")";
  });
  node.on(a, "echo", [](Request&) -> Task<std::string> { co_return "echo"; });
  node.on(b, "pong", [a](Request& r) -> Task<std::string> {
    co_return "pong(" + co_await r.call(a, "echo", "") + ")";
  });
  return node.call(a, "ping", "");
}

TEST(RpcCycle, WorksWithOneCoroutinePerRequest) {
  on_threads_and_simulated(
      [] { WEFT_ASSERT(rpc_cycle(false) == "ping(pong(echo))"); });
  const auto r =
      weft::testing::explore(schedules(1000), [] { rpc_cycle(false); });
  EXPECT_EQ(r.schedules, 1000u);
}

TEST(RpcCycle, SerialisingRequestsPerServiceDeadlocksAndTheReportSaysWhy) {
  const auto r =
      weft::testing::find_failure(schedules(20), [] { rpc_cycle(true); });
  ASSERT_TRUE(r.failed()) << "the serialised cycle was not found";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  const std::string& m = r.failure->message;
  // Both sessions, and what each waits on.
  EXPECT_THAT(m, HasSubstr("service 'A' coroutine 1 (request 'ping', session "
                           "1 from the host) waits for the reply to session 2 "
                           "from service 'B'"))
      << m;
  EXPECT_THAT(m, HasSubstr("service 'B' coroutine 2 (request 'pong', session "
                           "2 from service 'A') waits for the reply to "
                           "session 3 from service 'A'"))
      << m;
  EXPECT_THAT(m, HasSubstr("service 'A' holds request 'echo' (session 3 from "
                           "service 'B') until its running request finishes"))
      << m;
}

// --- 2. a lost wake-up
// ---------------------------------------------------------

// The consumer asks B to prepare, then waits for the producer's signal;
// the producer asks C, then signals. If C answers first, the signal comes
// while the consumer is still in its call, not yet waiting: it is lost.
std::string hand_off(bool fixed) {
  Node node;
  const auto s = node.add_service({"S", false});
  const auto b = node.add_service({"B", false});
  const auto c = node.add_service({"C", false});
  auto answer = [](Request&) -> Task<std::string> { co_return "ok"; };
  node.on(b, "prepare", answer);
  node.on(c, "produce", answer);
  node.on(s, "run", [b, c, fixed](Request& r) -> Task<std::string> {
    bool produced = false;
    const std::uint64_t consumer = r.coroutine();
    r.fork([c, consumer, &produced](Request& f) -> Task<void> {
      co_await f.call(c, "produce", "");
      produced = true;
      f.wakeup(consumer);
    });
    co_await r.call(b, "prepare", "");
    if (fixed) {
      while (!produced) co_await r.wait();
    } else {
      co_await r.wait();  // the bug: assumes the signal is still to come
    }
    co_return "consumed";
  });
  return node.call(s, "run", "");
}

TEST(LostWakeup, IsFoundInSimulationWithAReplayCommand) {
  sim::ExploreOptions o = schedules(500);
  o.use_environment = true;
  const auto r = weft::testing::find_failure(o, [] { hand_off(false); });
  ASSERT_TRUE(r.failed()) << "the lost wake-up was not found";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kDeadlock);
  EXPECT_THAT(r.failure->message,
              HasSubstr("service 'S' coroutine 1 (request 'run', session 1 "
                        "from the host) waits for a wakeup"));
  EXPECT_THAT(r.replay_command, HasSubstr("WEFT_SEED="));
  std::printf("lost wake-up found after %llu schedules (%s)\n",
              static_cast<unsigned long long>(r.schedules), r.strategy.c_str());
}

TEST(LostWakeup, TheFlagGuardedWaitPasses2000SchedulesOfEachStrategy) {
  for (const char* strategy : {"pct", "random"}) {
    const auto r = weft::testing::explore(schedules(2000, strategy), [] {
      WEFT_ASSERT(hand_off(true) == "consumed");
    });
    EXPECT_EQ(r.schedules, 2000u) << strategy;
  }
}

// --- 3. an ordering assumption
// -------------------------------------------------

// Two requests go out at once, to two services; the buggy handler assumes
// the replies come back in the order the requests went.
std::string fan_out(bool fixed) {
  Node node;
  const auto agg = node.add_service({"aggregator", false});
  const auto s1 = node.add_service({"first", false});
  const auto s2 = node.add_service({"second", false});
  node.on(s1, "get", [](Request&) -> Task<std::string> { co_return "1"; });
  node.on(s2, "get", [](Request&) -> Task<std::string> { co_return "2"; });
  node.on(agg, "both", [s1, s2, fixed](Request& r) -> Task<std::string> {
    std::vector<std::string> arrived;
    std::string slots[2];
    int done = 0;
    const std::uint64_t me = r.coroutine();
    for (int i = 0; i < 2; ++i) {
      r.fork([&, i, me](Request& f) -> Task<void> {
        const std::string v = co_await f.call(i == 0 ? s1 : s2, "get", "");
        arrived.push_back(v);
        slots[i] = v;
        if (++done == 2) f.wakeup(me);
      });
    }
    while (done < 2) co_await r.wait();
    co_return fixed ? slots[0] + slots[1] : arrived[0] + arrived[1];
  });
  return node.call(agg, "both", "");
}

TEST(OrderingAssumption, RepliesInRequestOrderIsFoundFalse) {
  const auto r = weft::testing::find_failure(
      schedules(500), [] { WEFT_ASSERT(fan_out(false) == "12"); });
  ASSERT_TRUE(r.failed()) << "the reordered replies were not found";
  EXPECT_EQ(r.failure->kind, sim::FailureKind::kAssertion);
  std::printf("reordered replies found after %llu schedules (%s)\n",
              static_cast<unsigned long long>(r.schedules), r.strategy.c_str());
}

TEST(OrderingAssumption, SlotsByRequestPass2000SchedulesOfEachStrategy) {
  for (const char* strategy : {"pct", "random"}) {
    const auto r = weft::testing::explore(
        schedules(2000, strategy), [] { WEFT_ASSERT(fan_out(true) == "12"); });
    EXPECT_EQ(r.schedules, 2000u) << strategy;
  }
}

// --- user coroutines inside a handler ---------------------------------------

UserCoroutine<std::string> numbers_via(Request& r, ServiceHandle source) {
  for (int i = 0; i < 3; ++i)
    co_yield co_await r.call(source, "next", std::to_string(i));
}

TEST(UserCoroutine, AFrameworkSuspensionShowsAsBlockedAndCannotBeResumed) {
  on_threads_and_simulated([] {
    Node node;
    const auto src = node.add_service({"source", false});
    const auto s = node.add_service({"s", false});
    node.on(src, "next", [](Request& r) -> Task<std::string> {
      co_await r.sleep(1ms);
      co_return "n" + r.payload();
    });
    std::string seen_status, resume_error;
    node.on(s, "go", [&, src](Request& r) -> Task<std::string> {
      auto gen = numbers_via(r, src);
      WEFT_ASSERT(gen.status() ==
                  UserCoroutine<std::string>::Status::kSuspended);
      // Another coroutine of the service looks at gen while the
      // framework holds it.
      r.fork([&](Request&) -> Task<void> {
        seen_status =
            gen.status() == UserCoroutine<std::string>::Status::kBlocked
                ? "blocked"
                : "not blocked";
        try {
          gen.resume();
        } catch (const BlockedCoroutineError& e) {
          resume_error = e.what();
        }
        co_return;
      });
      std::string all;
      while (auto v = co_await gen.next(r)) all += *v + " ";
      WEFT_ASSERT(gen.status() == UserCoroutine<std::string>::Status::kDead);
      co_return all;
    });
    WEFT_ASSERT(node.call(s, "go", "") == "n0 n1 n2 ");
    WEFT_ASSERT(seen_status == "blocked");
    WEFT_ASSERT(resume_error.find("the framework suspended it") !=
                std::string::npos);
  });
}

// skynet's user coroutines across requests: "make" creates a generator
// and keeps it; each "pull" resumes it, and the call inside suspends the
// pulling request (Request::current()), whose reply resumes the generator
// and then the pull.
UserCoroutine<std::string> numbers_from(ServiceHandle source) {
  for (int i = 0; i < 3; ++i)
    co_yield co_await Request::current().call(source, "next",
                                              std::to_string(i));
}

TEST(UserCoroutine, AGeneratorMadeInOneRequestCallsForTheRequestResumingIt) {
  on_threads_and_simulated([] {
    Node node;
    const auto src = node.add_service({"source", false});
    const auto s = node.add_service({"s", false});
    node.on(src, "next", [](Request& r) -> Task<std::string> {
      co_await r.sleep(1ms);
      co_return "n" + r.payload();
    });
    std::optional<UserCoroutine<std::string>> gen;  // only s touches it
    node.on(s, "make", [&, src](Request&) -> Task<std::string> {
      gen.emplace(numbers_from(src));
      co_return "made";
    });
    node.on(s, "pull", [&](Request& r) -> Task<std::string> {
      auto v = co_await gen->next(r);
      co_return v ? *v + " for session " + std::to_string(r.session())
                  : std::string("done");
    });
    WEFT_ASSERT(node.call(s, "make", "") == "made");
    WEFT_ASSERT(node.call(s, "pull", "") == "n0 for session 2");
    // The source's "next" had session 3: sessions go on in order.
    WEFT_ASSERT(node.call(s, "pull", "") == "n1 for session 4");
    WEFT_ASSERT(node.call(s, "pull", "") == "n2 for session 6");
    WEFT_ASSERT(node.call(s, "pull", "") == "done");
  });
}

// The generator keeps the Request of the request that made it, which
// stays alive (it waits); a later request resumes it: the call still
// belongs to the resumer.
TEST(UserCoroutine, AGeneratorResumedByAnotherRequestCanCallThroughItsMaker) {
  on_threads_and_simulated([] {
    Node node;
    const auto src = node.add_service({"source", false});
    const auto s = node.add_service({"s", false});
    node.on(src, "next", [](Request& r) -> Task<std::string> {
      co_return "n" + r.payload();
    });
    std::optional<UserCoroutine<std::string>> gen;
    std::uint64_t maker = 0;
    node.on(s, "make", [&, src](Request& r) -> Task<std::string> {
      gen.emplace(numbers_via(r, src));
      maker = r.coroutine();
      co_await r.wait();  // until the pull is done
      co_return "maker done";
    });
    node.on(s, "pull", [&](Request& r) -> Task<std::string> {
      if (!gen) throw std::runtime_error("nothing made yet");
      auto v = co_await gen->next(r);
      r.wakeup(maker);
      co_return *v;
    });
    sim::JoinHandle make = sim::spawn(
        [&] { WEFT_ASSERT(node.call(s, "make", "") == "maker done"); });
    // The pull may arrive before the make: then it is retried.
    std::string got;
    while (got.empty()) {
      try {
        got = node.call(s, "pull", "");
      } catch (const CallError&) {
        sim::sleep_for(1ms);
      }
    }
    make.join();
    WEFT_ASSERT_MSG(got == "n0", got);
  });
}

TEST(UserCoroutine, APlainResumeOfAGeneratorThatCallsIsRefused) {
  on_threads_and_simulated([] {
    Node node;
    const auto src = node.add_service({"source", false});
    const auto s = node.add_service({"s", false});
    sim::Atomic<int> asked{0};
    node.on(src, "next", [&](Request& r) -> Task<std::string> {
      asked.fetch_add(1);
      co_return "n" + r.payload();
    });
    node.on(s, "go", [src](Request& r) -> Task<std::string> {
      auto gen = numbers_via(r, src);
      try {
        gen.resume();
      } catch (const BlockedCoroutineError& e) {
        co_return e.what();
      }
      co_return "not refused";
    });
    const std::string got = node.call(s, "go", "");
    WEFT_ASSERT_MSG(
        got ==
            "call 'next' inside a user coroutine driven by resume(): plain "
            "code cannot be suspended by the framework, so the reply would "
            "be lost; drive the coroutine with co_await next(request)",
        got);
    WEFT_ASSERT(asked.load() == 0);  // refused before the call went out
  });
}

UserCoroutine<int> plain_counter() {
  for (int i = 1; i <= 3; ++i) co_yield i;
}

TEST(UserCoroutine, APlainGeneratorResumesFromUserCode) {
  auto g = plain_counter();
  EXPECT_EQ(g.resume(), 1);
  EXPECT_EQ(g.status(), UserCoroutine<int>::Status::kSuspended);
  EXPECT_EQ(g.resume(), 2);
  EXPECT_EQ(g.resume(), 3);
  EXPECT_EQ(g.resume(), std::nullopt);
  EXPECT_EQ(g.status(), UserCoroutine<int>::Status::kDead);
}

// --- profiling
// -----------------------------------------------------------------

TEST(Profile, ARequestIsChargedItsRunningSegmentsNotItsWallTime) {
  weft::testing::explore(schedules(200), [] {
    Node node;
    const auto a = node.add_service({"A", false});
    const auto b = node.add_service({"B", false});
    node.on(b, "slow", [](Request& r) -> Task<std::string> {
      co_await r.sleep(5s);
      co_return "";
    });
    node.on(a, "work", [b](Request& r) -> Task<std::string> {
      r.burn(10ms);
      co_await r.sleep(1s);  // suspension 1
      r.burn(20ms);
      co_await r.call(b, "slow", "");  // suspension 2
      r.burn(30ms);
      co_await r.sleep(2s);  // suspension 3
      r.burn(40ms);
      co_return "";
    });
    const auto start = sim::Clock::now();
    node.call(a, "work", "");
    const auto wall = sim::Clock::now() - start;
    const auto stats = node.stats();
    WEFT_ASSERT(stats[0].name == "A");
    WEFT_ASSERT(stats[0].cpu == 100ms);
    WEFT_ASSERT(stats[0].cpu_by_type.at("work") == 100ms);
    WEFT_ASSERT(stats[1].cpu == 0ms);  // B only slept
    WEFT_ASSERT(wall >= 8s);
  });
}

TEST(Profile, OnRealThreadsCpuTimeIsChargedAcrossSuspensions) {
  Node node;
  const auto a = node.add_service({"A", false});
  node.on(a, "work", [](Request& r) -> Task<std::string> {
    for (int i = 0; i < 4; ++i) {
      r.burn(5ms);  // thread CPU time
      if (i < 3) co_await r.sleep(30ms);
    }
    co_return "";
  });
  node.call(a, "work", "");
  const auto cpu = node.stats()[0].cpu;
  // At least the 20 ms burnt; far below the 90 ms spent asleep on top.
  EXPECT_GE(cpu, 20ms);
  EXPECT_LT(cpu, 90ms);
}

TEST(Service, SameSeedSameSchedule) {
  test_support::expect_same_schedule_per_seed([] { fan_out(true); }, 200);
}

}  // namespace
}  // namespace weft::runtime
