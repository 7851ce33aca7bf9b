#include "sim/lockset.h"

#include <gtest/gtest.h>

namespace weft::sim {
namespace {

constexpr ChoiceKind kLock = ChoiceKind::kLock;
constexpr ChoiceKind kUnlock = ChoiceKind::kUnlock;
constexpr ChoiceKind kAtomic = ChoiceKind::kAtomic;

// Stand-ins for a mutex's and an atomic's addresses.
const int m1 = 0, m2 = 0, atom = 0;

TEST(Locksets, AnAccessHoldingNoMutexIsUnorderedAndLeavesTheAtomicUnguarded) {
  Locksets l;
  EXPECT_TRUE(l.unordered(0, &atom));
  l.made(0, kAtomic, &atom);  // atom: {}
  l.made(1, kLock, &m1);
  // Strand 1 holds m1, but strand 0 touched atom holding nothing: a race.
  EXPECT_TRUE(l.unordered(1, &atom));
  EXPECT_FALSE(l.changes(1, kAtomic, &atom));  // already empty
}

TEST(Locksets, AnAtomicGuardedByOneMutexInEveryAccessIsOrdered) {
  Locksets l;
  bool first = true;
  for (StrandId s : {0u, 1u, 2u, 0u}) {
    l.made(s, kLock, &m1);
    EXPECT_FALSE(l.unordered(s, &atom)) << "strand " << s;
    EXPECT_EQ(l.changes(s, kAtomic, &atom), first);  // the first creates it
    first = false;
    l.made(s, kAtomic, &atom);
    l.made(s, kUnlock, &m1);
  }
}

TEST(Locksets,
     AccessesUnderDifferentMutexesAreUnorderedFromTheFirstThatDisagrees) {
  Locksets l;
  l.made(0, kLock, &m1);
  l.made(0, kAtomic, &atom);  // atom: {m1}
  l.made(1, kLock, &m2);
  EXPECT_TRUE(l.unordered(1, &atom));
  EXPECT_TRUE(l.changes(1, kAtomic, &atom));
  EXPECT_FALSE(l.changes(1, kLock, &atom));
  l.made(1, kAtomic, &atom);                   // atom: {}
  EXPECT_FALSE(l.changes(1, kAtomic, &atom));  // already empty
  // From now on even strand 0, under m1, races on atom.
  EXPECT_TRUE(l.unordered(0, &atom));
}

TEST(Locksets, NestedMutexesKeepTheCommonOneAndUnlockReleasesOnlyItsOwn) {
  Locksets l;
  l.made(0, kLock, &m1);
  l.made(0, kLock, &m2);
  l.made(0, kAtomic, &atom);  // atom: {m1, m2}
  l.made(0, kUnlock, &m2);
  EXPECT_FALSE(l.unordered(0, &atom));  // still holds m1
  l.made(1, kLock, &m2);
  l.made(1, kLock, &m1);
  l.made(1, kUnlock, &m2);
  l.made(1, kAtomic, &atom);  // atom: {m1}
  l.made(2, kLock, &m2);
  EXPECT_TRUE(l.unordered(2, &atom));
  l.clear();
  EXPECT_TRUE(l.unordered(2, &atom));  // cleared: strand 2 holds nothing
}

TEST(Locksets, NothingRacesWhileOneStrandAloneTouchedTheAtomic) {
  Locksets l;
  EXPECT_FALSE(l.races(0, &atom, true));  // never touched
  l.made(0, kAtomic, &atom, nullptr, true);
  EXPECT_FALSE(l.races(0, &atom, true));
  EXPECT_FALSE(l.races(0, &atom, false));
  // Another strand's unlocked read of strand 0's unlocked write does.
  EXPECT_TRUE(l.races(1, &atom, false));
}

TEST(Locksets, AReadRacesOnlyWithWritesNoCommonMutexOrders) {
  Locksets l;
  // twostage's data1: written under m1, read by its writer under m2 and
  // by another strand under m1. Reads of one another are no race, and
  // the other strand's read is ordered with the write by m1.
  l.made(0, kLock, &m1);
  l.made(0, kAtomic, &atom, nullptr, true);
  l.made(0, kUnlock, &m1);
  l.made(0, kLock, &m2);
  EXPECT_FALSE(l.races(0, &atom, false));  // what only it wrote
  l.made(0, kAtomic, &atom, nullptr, false);
  l.made(0, kUnlock, &m2);
  l.made(1, kLock, &m1);
  EXPECT_FALSE(l.races(1, &atom, false));
  l.made(1, kAtomic, &atom, nullptr, false);
  l.made(1, kUnlock, &m1);
  // A read under m2 by a third strand is not ordered with the write.
  l.made(2, kLock, &m2);
  EXPECT_TRUE(l.races(2, &atom, false));
  l.made(2, kUnlock, &m2);
  // A second writer under m1 races with strand 0's read under m2.
  l.made(2, kLock, &m1);
  EXPECT_TRUE(l.races(2, &atom, true));
}

TEST(Locksets, AWriteRacesWithAnyAccessNoCommonMutexOrders) {
  Locksets l;
  l.made(1, kLock, &m1);
  l.made(1, kAtomic, &atom, nullptr, false);  // a read under m1
  l.made(1, kUnlock, &m1);
  l.made(0, kLock, &m1);
  EXPECT_FALSE(l.races(0, &atom, true));  // ordered with it by m1
  l.made(0, kUnlock, &m1);
  EXPECT_TRUE(l.races(0, &atom, true));  // unlocked
  l.clear();
  EXPECT_FALSE(l.races(0, &atom, true));  // cleared: untouched
}

}  // namespace
}  // namespace weft::sim
