// The GoogleTest form of the guide's bank, as shown in README.md: a weft
// test is an ordinary TEST whose body is one call to
// weft::testing::explore. Linked with weft's test main (weft::gtest_main),
// which also takes over GoogleTest sharding.
#include <gtest/gtest.h>

#include <mutex>

#include "sim/harness/gtest.h"
#include "sim/weft.h"

TEST(Bank, TransfersKeepTheTotal) {
  weft::testing::explore([] {
    weft::Mutex mu("bank");
    int alice = 100, bob = 100;  // guarded by mu
    auto pay = [&](int& from, int& to, int amount) {
      std::lock_guard lock(mu);
      from -= amount;
      to += amount;
    };
    auto a = weft::spawn("alice-pays-bob", [&] { pay(alice, bob, 30); });
    auto b = weft::spawn("bob-pays-alice", [&] { pay(bob, alice, 20); });
    a.join();
    b.join();
    EXPECT_EQ(alice + bob, 200);
  });
}

// find_failure is for tests that claim weft finds a bug: it returns the
// result instead of failing the test.
TEST(Bank, UnlockedTransferThroughAtomicsLosesAnUpdate) {
  const auto result = weft::testing::find_failure([] {
    weft::Atomic<int> alice{100}, bob{100};
    auto pay = [](weft::Atomic<int>& from, weft::Atomic<int>& to, int n) {
      from.store(from.load() - n);
      to.store(to.load() + n);
    };
    auto a = weft::spawn("alice-pays-bob", [&] { pay(alice, bob, 30); });
    auto b = weft::spawn("bob-pays-alice", [&] { pay(bob, alice, 20); });
    a.join();
    b.join();
    EXPECT_EQ(alice.load() + bob.load(), 200);
  });
  ASSERT_TRUE(result.failed());
  EXPECT_EQ(result.failure->kind, weft::sim::FailureKind::kAssertion);
}

// The limitation the guide warns about: plain memory accesses are not
// choice points. The same unlocked transfer on plain ints runs each
// transfer from start to end without a switch, so weft cannot see the race.
// Put shared state behind weft primitives (Atomic, Mutex, ...).
TEST(Bank, PlainIntsHideTheRaceFromWeft) {
  const auto result = weft::testing::find_failure([] {
    int alice = 100, bob = 100;
    auto pay = [](int& from, int& to, int amount) {
      from -= amount;
      to += amount;
    };
    auto a = weft::spawn("alice-pays-bob", [&] { pay(alice, bob, 30); });
    auto b = weft::spawn("bob-pays-alice", [&] { pay(bob, alice, 20); });
    a.join();
    b.join();
    EXPECT_EQ(alice + bob, 200);
  });
  EXPECT_FALSE(result.failed());
}
