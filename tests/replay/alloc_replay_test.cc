// The replayer: sound allocators replay cleanly; deliberately broken ones
// (overlapping blocks, a block handed out again before its free,
// misaligned results, non-zero calloc memory) are each caught.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "replay/alloc/log.h"
#include "replay/alloc/replay.h"
#include "replay/alloc/testing.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

SlotRecord op(AllocCall call, std::uint32_t slot, std::uint64_t size = 0,
              std::uint64_t align = 0, std::uint32_t thread = 0) {
  SlotRecord r;
  r.call = call;
  r.slot = slot;
  r.size = size;
  r.align = align;
  r.thread = thread;
  return r;
}

// A slots log that uses every call, keeps 100 blocks of 1000 bytes live at
// once, asks for 64- and 256-byte alignment, callocs, reallocs, and hands
// blocks between two threads.
std::string write_log(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/" + name +
                           std::to_string(getpid()) + ".slots.weft";
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "slots"}};
  traces::TraceWriter w(path, header);
  std::uint32_t s = 0;
  for (int i = 0; i < 100; ++i)
    w.append(op(AllocCall::kMalloc, s++, 1000, 0, i % 2));
  for (int i = 0; i < 20; ++i)
    w.append(op(AllocCall::kMemalign, s++, 100 + i, 64));
  for (int i = 0; i < 20; ++i)
    w.append(op(AllocCall::kPosixMemalign, s++, 300, 256));
  w.append(op(AllocCall::kAlignedAlloc, s++, 512, 64));
  w.append(op(AllocCall::kValloc, s++, 100, 4096));
  for (int i = 0; i < 20; ++i) w.append(op(AllocCall::kCalloc, s++, 4096));
  SlotRecord r = op(AllocCall::kRealloc, s++, 10);
  r.from_null = true;
  w.append(r);
  w.append(op(AllocCall::kRealloc, s - 1, 5000));
  w.append(op(AllocCall::kRealloc, s - 1, 7));
  // Thread 1 frees what thread 0 allocated, and the other way round.
  for (std::uint32_t i = 0; i < s; ++i)
    w.append(op(AllocCall::kFree, i, 0, 0, (i + 1) % 2));
  w.close();
  return path;
}

class AllocReplay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log_ = new std::string(write_log("mixed")); }
  static void TearDownTestSuite() {
    std::remove(log_->c_str());
    delete log_;
  }
  static std::string* log_;
};
std::string* AllocReplay::log_ = nullptr;

ReplayResult replay(const std::string& log, const std::string& allocator,
                    bool ordered = false) {
  ReplayOptions options;
  options.ordered = ordered;
  return replay_in_child(log, allocator, options);
}

bool any_error_contains(const ReplayResult& r, const std::string& what) {
  for (const auto& e : r.errors)
    if (e.find(what) != std::string::npos) return true;
  return false;
}

TEST_F(AllocReplay, GlibcReplaysTheMixedLogCleanlyInBothModes) {
  for (const bool ordered : {false, true}) {
    const ReplayResult r = replay(*log_, "glibc", ordered);
    ASSERT_TRUE(r.failure.empty()) << r.failure;
    EXPECT_EQ(r.error_count, 0u) << (r.errors.empty() ? "" : r.errors[0]);
    EXPECT_EQ(r.operations, 2u * 163 + 2);
    EXPECT_EQ(r.mode, ordered ? "ordered" : "fast");
    EXPECT_EQ(r.threads, ordered ? 2u : 1u);
    EXPECT_EQ(r.latency[static_cast<int>(AllocCall::kMalloc)].count, 100u);
    EXPECT_EQ(r.latency[static_cast<int>(AllocCall::kFree)].count, 163u);
    // In global order 100 x 1000 + 20 x 4096 + ... bytes were live at
    // once. Ordered, each thread only waits for the blocks it is handed,
    // so thread 1 may free early ones before thread 0 is done: less.
    if (!ordered) {
      EXPECT_GE(r.peak_live, 100u * 1000 + 20 * 4096);
    }
    EXPECT_GT(r.peak_live, 0u);
    EXPECT_GT(r.peak_rss, 0u);
  }
}

TEST_F(AllocReplay, DetectsOverlappingBlocks) {
  const ReplayResult r = replay(*log_, WEFT_BROKEN_OVERLAP);
  ASSERT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_GT(r.error_count, 0u);
  EXPECT_TRUE(any_error_contains(r, "was changed at byte"))
      << (r.errors.empty() ? "no errors" : r.errors[0]);
  // Found at a free, the report gives the damaged block's size.
  EXPECT_TRUE(any_error_contains(r, "(free of 1000 bytes, slot"))
      << (r.errors.empty() ? "no errors" : r.errors[0]);
}

TEST_F(AllocReplay, DetectsABlockHandedOutAgainBeforeItsFree) {
  const ReplayResult r = replay(*log_, WEFT_BROKEN_REUSE);
  ASSERT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_GE(r.error_count, 50u);  // one per block handed out twice
  EXPECT_TRUE(any_error_contains(r, "was changed at byte 0"))
      << (r.errors.empty() ? "no errors" : r.errors[0]);
}

TEST_F(AllocReplay, DetectsMisalignedResults) {
  const ReplayResult r = replay(*log_, WEFT_BROKEN_MISALIGNED);
  ASSERT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_TRUE(any_error_contains(r, "is not aligned to 64 bytes"));
  // Every aligned call of 64 bytes or more: 20 memalign, 20
  // posix_memalign (256), one aligned_alloc and one valloc (4096).
  EXPECT_EQ(r.error_count, 42u);
}

TEST_F(AllocReplay, DetectsNonZeroCallocMemory) {
  const ReplayResult r = replay(*log_, WEFT_BROKEN_CALLOC);
  ASSERT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_EQ(r.error_count, 20u);  // each calloc, nothing else
  EXPECT_TRUE(any_error_contains(r, "calloc memory"));
}

TEST_F(AllocReplay, TheTestHelperFailsOnABrokenAllocatorAndPassesGlibc) {
  EXPECT_TRUE(testing::replays_cleanly(*log_, "glibc"));
  const auto broken = testing::replays_cleanly(*log_, WEFT_BROKEN_OVERLAP);
  EXPECT_FALSE(broken);
  EXPECT_NE(std::string(broken.message()).find("damaged"), std::string::npos);
}

TEST_F(AllocReplay, TheTestHelperComparesPeakRssWithABaseline) {
  // Against itself with a ratio of 100 it passes; the check is live: a
  // ratio of 0.01 must fail.
  testing::ReplayExpectations loose;
  loose.baseline = "glibc";
  loose.max_rss_ratio = 100;
  EXPECT_TRUE(testing::replays_cleanly(*log_, "glibc", loose));
  testing::ReplayExpectations tight_expect = loose;
  tight_expect.max_rss_ratio = 0.01;
  const auto tight = testing::replays_cleanly(*log_, "glibc", tight_expect);
  EXPECT_FALSE(tight);
  EXPECT_NE(std::string(tight.message()).find("peak RSS"), std::string::npos);
}

TEST_F(AllocReplay, DebianAllocatorsReplayCleanly) {
  for (const std::string a : {"jemalloc", "mimalloc", "tcmalloc"}) {
    testing::ReplayExpectations ordered;
    ordered.ordered = true;
    EXPECT_TRUE(testing::replays_cleanly(*log_, a, ordered));
    EXPECT_TRUE(testing::replays_cleanly(*log_, a));
  }
}

TEST_F(AllocReplay, NoCheckModeSkipsChecksAndLatency) {
  ReplayOptions options;
  options.check = false;
  const ReplayResult r = replay_in_child(*log_, WEFT_BROKEN_CALLOC, options);
  ASSERT_TRUE(r.failure.empty()) << r.failure;
  EXPECT_FALSE(r.checked);
  EXPECT_EQ(r.error_count, 0u);  // nothing looked at the memory
  EXPECT_EQ(r.latency[0].count, 0u);
  EXPECT_EQ(r.operations, 328u);
}

TEST_F(AllocReplay, NoCheckModeStillReportsPeakLiveAndFragmentation) {
  // Unchecked, the peak of live bytes is taken from the log in global
  // order, outside the timed loop: the same figure a checked run measures
  // when no allocation fails.
  const ReplayResult checked = replay(*log_, "glibc");
  ASSERT_TRUE(checked.failure.empty()) << checked.failure;
  ASSERT_GT(checked.peak_live, 100u * 1000);
  for (const bool ordered : {false, true}) {
    ReplayOptions options;
    options.check = false;
    options.ordered = ordered;
    const ReplayResult r = replay_in_child(*log_, "glibc", options);
    ASSERT_TRUE(r.failure.empty()) << r.failure;
    EXPECT_EQ(r.peak_live, checked.peak_live) << (ordered ? "ordered" : "fast");
    EXPECT_GT(r.fragmentation(), 0);
  }
}

// A log whose every request is marked for alloc_counting.c (777000-777999
// bytes, or 512 MiB and more): each kind of call, a realloc of a freed slot
// (from null), slots that end the log freed as well as slots still live
// and, if `huge`, a 600 MiB block: too large for the unchecked loop's
// packed form (the checked loop would fill it, so only unchecked runs get
// one).
std::string write_marked_log(bool huge) {
  const std::string path = ::testing::TempDir() + "/marked" +
                           std::to_string(getpid()) + ".slots.weft";
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "slots"}};
  traces::TraceWriter w(path, header);
  for (std::uint32_t s = 0; s < 5; ++s)
    w.append(op(AllocCall::kMalloc, s, 777001 + s));
  w.append(op(AllocCall::kCalloc, 5, 777010));
  w.append(op(AllocCall::kCalloc, 6, 777011));
  w.append(op(AllocCall::kPosixMemalign, 7, 777012, 64));
  w.append(op(AllocCall::kAlignedAlloc, 8, 777216, 256));
  w.append(op(AllocCall::kMemalign, 9, 777013, 128));
  w.append(op(AllocCall::kValloc, 10, 777014, 4096));
  if (huge) w.append(op(AllocCall::kMalloc, 11, std::uint64_t{600} << 20));
  w.append(op(AllocCall::kRealloc, 1, 777020));  // moves or grows slot 1
  w.append(op(AllocCall::kFree, 0));
  SlotRecord again = op(AllocCall::kRealloc, 0, 777021);
  again.from_null = true;  // slot 0 was freed: realloc(NULL, n)
  w.append(again);
  for (const std::uint32_t s : {2u, 5u, 7u, 9u})
    w.append(op(AllocCall::kFree, s));
  if (huge) w.append(op(AllocCall::kFree, 11));
  w.close();
  return path;
}

std::map<std::string, long> read_counts(const std::string& path) {
  std::map<std::string, long> counts;
  std::ifstream in(path);
  std::string name;
  long n = 0;
  while (in >> name >> n) counts[name] = n;
  return counts;
}

// Counted by the allocator the replayer drives, so this fails if either
// loop skips, repeats or mistakes a call, or leaves a block behind; in
// chunks of the default size (one chunk here) and of 1, 2 and 3
// operations (the unchecked loop loads each operation one call ahead, and
// a chunk's last operation has none after it).
TEST(AllocReplayCalls, BothModesMakeExactlyTheLoggedCallsAndFreeEveryBlock) {
  const std::string counts_path =
      ::testing::TempDir() + "/counts" + std::to_string(getpid()) + ".txt";
  setenv("WEFT_ALLOC_COUNTS", counts_path.c_str(), 1);
  for (const std::size_t chunk :
       {ReplayOptions{}.chunk, std::size_t{1}, std::size_t{2}, std::size_t{3}})
    for (const bool check : {false, true}) {
      SCOPED_TRACE(std::string(check ? "checked" : "unchecked") + ", chunk " +
                   std::to_string(chunk));
      const bool huge = !check;
      const std::string log = write_marked_log(huge);
      std::remove(counts_path.c_str());
      ReplayOptions options;
      options.check = check;
      options.chunk = chunk;
      const ReplayResult r = replay_in_child(log, WEFT_ALLOC_COUNTING, options);
      std::remove(log.c_str());
      ASSERT_TRUE(r.failure.empty()) << r.failure;
      EXPECT_EQ(r.error_count, 0u) << (r.errors.empty() ? "" : r.errors[0]);
      EXPECT_EQ(r.operations, huge ? 20u : 18u);
      const auto counts = read_counts(counts_path);
      ASSERT_EQ(counts.size(), 9u) << "no counts in " << counts_path;
      EXPECT_EQ(counts.at("malloc"), huge ? 6 : 5);
      EXPECT_EQ(counts.at("calloc"), 2);
      EXPECT_EQ(counts.at("realloc"), 2);
      EXPECT_EQ(counts.at("posix_memalign"), 1);
      EXPECT_EQ(counts.at("aligned_alloc"), 1);
      EXPECT_EQ(counts.at("memalign"), 1);
      EXPECT_EQ(counts.at("valloc"), 1);
      // Every block handed out is freed once (slot 1's first went to
      // realloc): the log's frees, then the replayer's of the 7 still live.
      EXPECT_EQ(counts.at("free"), huge ? 6 + 7 : 5 + 7);
      EXPECT_EQ(counts.at("live"), 0);
    }
  unsetenv("WEFT_ALLOC_COUNTS");
  std::remove(counts_path.c_str());
}

// A well-formed slots log whose operations contradict each other (a block
// freed twice, an allocation into a slot still holding one) is damaged:
// both modes refuse it with the file and offset, before any allocator
// call, instead of handing the allocator a double free.
TEST(AllocReplayBadInput, ASlotsLogThatBreaksTheSlotRulesIsRefused) {
  struct Case {
    std::vector<SlotRecord> ops;
    std::string says;
  };
  SlotRecord grow = op(AllocCall::kRealloc, 1, 64);
  SlotRecord from_null = op(AllocCall::kRealloc, 0, 64);
  from_null.from_null = true;
  const std::vector<Case> cases = {
      {{op(AllocCall::kMalloc, 0, 16), op(AllocCall::kFree, 0),
        op(AllocCall::kFree, 0)},
       "operation 2: free of slot 0, which holds no block"},
      {{op(AllocCall::kMalloc, 0, 16), op(AllocCall::kCalloc, 0, 16)},
       "operation 1: calloc of slot 0, which still holds a block"},
      {{op(AllocCall::kMalloc, 0, 16), grow},
       "operation 1: realloc of slot 1, which holds no block"},
      {{op(AllocCall::kMalloc, 0, 16), from_null},
       "operation 1: realloc from null of slot 0, which still holds a block"},
      {{op(AllocCall::kMalloc, 0, std::uint64_t{1} << 62)},
       "operation 0: malloc of 4611686018427387904 bytes: more than a "
       "process's address space"},
      {{op(AllocCall::kPosixMemalign, 0, 64, 3)},
       "operation 0: posix_memalign with alignment 3: not a power of two "
       "multiple of sizeof(void*), so it cannot have succeeded"},
      {{op(AllocCall::kPosixMemalign, 0, 64, std::uint64_t{1} << 63)},
       "operation 0: posix_memalign with alignment 9223372036854775808: "
       "more than a process's address space, so it cannot have succeeded"},
  };
  for (const Case& c : cases) {
    const std::string path = ::testing::TempDir() + "/broken-rules" +
                             std::to_string(getpid()) + ".slots.weft";
    traces::TraceHeader header;
    header.kind = traces::TraceKind::kAllocLog;
    header.metadata = {{"form", "slots"}};
    {
      traces::TraceWriter w(path, header);
      for (const SlotRecord& r : c.ops) w.append(r);
    }
    for (const bool check : {false, true}) {
      ReplayOptions options;
      options.check = check;
      const ReplayResult r = replay_in_child(path, "glibc", options);
      EXPECT_NE(r.failure.find(path + ": " + c.says + " at byte "),
                std::string::npos)
          << r.failure;
      EXPECT_TRUE(r.bad_input);
    }
    std::remove(path.c_str());
  }
}

TEST(AllocReplayResult, RoundTripsThroughJson) {
  ReplayResult r;
  r.allocator = "x";
  r.mode = "ordered";
  r.operations = 12;
  r.peak_rss = 4096;
  r.latency[3] = Latency{5, 1, 2, 3, 4, 5};
  r.series = {Sample{1, 2, 3}};
  r.errors = {"boom"};
  r.error_count = 1;
  r.bad_input = true;
  const ReplayResult back = from_json(to_json(r));
  EXPECT_TRUE(back.bad_input);
  EXPECT_EQ(back.allocator, "x");
  EXPECT_EQ(back.mode, "ordered");
  EXPECT_EQ(back.operations, 12u);
  EXPECT_EQ(back.peak_rss, 4096u);
  EXPECT_EQ(back.latency[3].p999, 4);
  ASSERT_EQ(back.series.size(), 1u);
  EXPECT_EQ(back.series[0].rss_bytes, 3u);
  EXPECT_EQ(back.errors, r.errors);
}

TEST(AllocReplayResult, AMissingAllocatorIsAFailureNotACrash) {
  const ReplayResult r =
      replay_in_child("/nonexistent.weft", "/nonexistent/libnothing.so", {});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.failure.find("/nonexistent/libnothing.so"), std::string::npos);
}

}  // namespace
}  // namespace weft::replay
