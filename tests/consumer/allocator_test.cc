// An allocator regression test: an mtrace log converted to slots and
// replayed under glibc in weft's replayer child, every block checked.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "replay/alloc/convert.h"
#include "replay/alloc/testing.h"

namespace {

TEST(Consumer, GlibcReplaysARecordedLogCleanly) {
  const std::string dir = ::testing::TempDir();
  const std::string mtrace = dir + "consumer.mtrace";
  const std::string slots = dir + "consumer.slots.weft";
  {
    std::ofstream out(mtrace);
    out << "= Start\n";
    for (int i = 0; i < 64; ++i)
      out << "@ ./app:[0x1] + 0x" << std::hex << 0x1000 + 0x100 * i << " 0x"
          << 16 + 8 * i << std::dec << "\n";
    for (int i = 0; i < 64; i += 2)
      out << "@ ./app:[0x1] - 0x" << std::hex << 0x1000 + 0x100 * i << std::dec
          << "\n";
    out << "= End\n";
  }
  const weft::replay::ConvertStats stats = weft::replay::convert(mtrace, slots);
  EXPECT_EQ(stats.calls, 96u);
  EXPECT_EQ(stats.unknown_frees, 0u);
  EXPECT_TRUE(weft::replay::testing::replays_cleanly(slots, "glibc"));
  std::remove(mtrace.c_str());
  std::remove(slots.c_str());
}

}  // namespace
