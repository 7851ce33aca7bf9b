// Lock-free structures written with std::atomic only (lockfree_stack.h,
// lockfree_queue.h include no weft header), explored through the
// instrumentation: the Treiber stack's ABA bug and the ring's
// publication-order bug are found and replay, and their fixed versions
// pass every schedule within a bound (dfs and dpor, counts printed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <string>

#include "sim/weft.h"
#include "tests/instrument/explore_helpers.h"
#include "tests/instrument/lockfree_queue.h"
#include "tests/instrument/lockfree_stack.h"

namespace weft::test {
namespace {

using sim::FailureKind;
using ::testing::HasSubstr;

// Nodes 0 (A) and 1 (B) on the stack, A on top. One strand pops once;
// another pops twice and pushes the first node back. Each node must end
// up exactly once: taken by a strand or on the stack.
template <bool kTagged>
void aba_body() {
  using Stack = LockFreeStack<kTagged, 2>;
  Stack stack;
  stack.push(1);
  stack.push(0);
  int popped = Stack::kEmpty, kept = Stack::kEmpty;
  auto popper = weft::spawn("popper", [&] { popped = stack.pop(); });
  auto recycler = weft::spawn("recycler", [&] {
    const int a = stack.pop();
    kept = stack.pop();
    if (a != Stack::kEmpty) stack.push(a);
  });
  popper.join();
  recycler.join();
  int count[2] = {0, 0};
  for (int n : {popped, kept})
    if (n != Stack::kEmpty) ++count[n];
  for (int i = 0; i < 3; ++i) {  // a corrupted stack may loop: bounded
    const int n = stack.pop();
    if (n == Stack::kEmpty) break;
    ++count[n];
  }
  WEFT_ASSERT_MSG(count[0] == 1 && count[1] == 1,
                  "node A is held " + std::to_string(count[0]) +
                      " times and node B " + std::to_string(count[1]) +
                      " times (ABA)");
}

TEST(LockFreeStack, TheUntaggedStackHasTheAbaBugAndItReplays) {
  const sim::ExploreResult r = exhaustive("dfs", 2, aba_body<false>);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
  EXPECT_THAT(r.failure->message, HasSubstr("node B 2 times (ABA)"));
  std::cout << "ABA found by dfs after " << r.schedules << " schedules\n";
  const sim::ExploreResult again = replay(r, aba_body<false>);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->message, r.failure->message);
}

TEST(LockFreeStack, TheDefaultPortfolioFindsTheAbaBug) {
  const sim::ExploreResult r =
      sim::explore(quiet_options("portfolio", 1000), aba_body<false>);
  EXPECT_TRUE(r.failed());
}

TEST(LockFreeStack, TheTaggedStackPassesEveryScheduleWithinTwoPreemptions) {
  for (const char* strategy : {"dfs", "dpor"}) {
    const sim::ExploreResult r = exhaustive(strategy, 2, aba_body<true>);
    EXPECT_FALSE(r.failed()) << r.report;
    EXPECT_TRUE(r.exhausted) << strategy;
    EXPECT_GT(r.schedules, 10u) << strategy;
    std::cout << "tagged stack: " << r.summary << "\n";
  }
}

// A producer pushes 1 and 2; a consumer pops, a bounded number of times,
// and must see a prefix of 1, 2.
template <bool kPublishFirst, class Slot>
void queue_body() {
  SpscQueue<kPublishFirst, Slot, 2> q;
  auto producer = weft::spawn("producer", [&] {
    q.push(1);
    q.push(2);
  });
  auto consumer = weft::spawn("consumer", [&] {
    int expected = 1;
    for (int attempt = 0; attempt < 3; ++attempt) {
      int v = 0;
      if (!q.pop(v)) continue;
      WEFT_ASSERT_MSG(v == expected, "popped " + std::to_string(v) +
                                         ", expected " +
                                         std::to_string(expected));
      ++expected;
    }
  });
  producer.join();
  consumer.join();
}

TEST(SpscQueue, PublishingBeforeWritingLetsTheConsumerReadAnEmptySlot) {
  auto body = queue_body<true, std::atomic<int>>;
  const sim::ExploreResult r = exhaustive("dfs", 2, body);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kAssertion);
  EXPECT_THAT(r.failure->message, HasSubstr("popped 0, expected "));
  std::cout << "publication-order bug found by dfs after " << r.schedules
            << " schedules\n";
  const sim::ExploreResult again = replay(r, body);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.failure->message, r.failure->message);
}

TEST(SpscQueue, WithPlainSlotsThePublicationBugIsAlsoADataRace) {
  const sim::ExploreResult r = exhaustive("dfs", 2, queue_body<true, int>);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kDataRace) << r.failure->message;
  EXPECT_THAT(r.failure->message, HasSubstr("lockfree_queue.h"));
}

TEST(SpscQueue,
     WritingBeforePublishingPassesEveryScheduleWithinTwoPreemptions) {
  for (const char* strategy : {"dfs", "dpor"}) {
    for (const bool plain : {false, true}) {
      const sim::ExploreResult r =
          plain ? exhaustive(strategy, 2, queue_body<false, int>)
                : exhaustive(strategy, 2, queue_body<false, std::atomic<int>>);
      EXPECT_FALSE(r.failed()) << r.report;
      EXPECT_TRUE(r.exhausted) << strategy;
      std::cout << "fixed queue (" << (plain ? "plain" : "atomic")
                << " slots): " << r.summary << "\n";
    }
  }
}

}  // namespace
}  // namespace weft::test
