// docs/guide.md, "Allocator tests in GoogleTest": a slots log replayed
// against your allocator (here ./libmyalloc.so, which ctest links to a
// sound allocator and the guide's output to a misaligning one) must come
// back clean and within 1.5 times glibc's peak RSS.
#include <gtest/gtest.h>

#include "replay/alloc/testing.h"

TEST(MyAllocator, ReplaysTheAppLogCleanlyAndWithinBudget) {
  weft::replay::testing::ReplayExpectations expect;
  expect.baseline = "glibc";
  expect.max_rss_ratio = 1.5;
  EXPECT_TRUE(weft::replay::testing::replays_cleanly(
      "testdata/app.slots.weft", "./libmyalloc.so", expect));
}
