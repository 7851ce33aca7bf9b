// Damage of every kind to small multi-frame files of every trace kind
// (schedule traces, event traces, allocator calls logs, slots logs), read
// by every reader: truncated at every byte, every bit flipped, a byte
// deleted or inserted at every position, frames swapped and dropped, every
// header byte changed. No mutant reads as clean, every message names the
// file and a byte offset, and a frame damaged in the middle costs only its
// own records: the intact frames after it still read. In-process here;
// tests/replay/mangle_cli_test.sh runs a sample through the weft command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "replay/alloc/convert.h"
#include "replay/alloc/log.h"
#include "replay/trace_command.h"
#include "sim/harness/schedule_trace.h"
#include "tests/replay/mangle_files.h"

namespace weft::replay {
namespace {

using namespace mangle;  // NOLINT: the test files' helpers
using traces::Record;
using traces::TraceKind;

// The claims every mutant must satisfy, for every reader of its kind.
void check_mutant(const std::string& kind, const std::string& path,
                  const std::string& what) {
  SCOPED_TRACE(kind + ": " + what);
  const Outcome o = read(path);
  if (o.refused) {
    EXPECT_THAT(o.message, ::testing::StartsWith(path + ": "));
    EXPECT_TRUE(std::regex_search(o.message, kAtByte)) << o.message;
  } else {
    ASSERT_TRUE(o.summary.lossy()) << "a changed file read as clean";
    for (const auto& line : traces::describe_losses(path, o.summary)) {
      EXPECT_THAT(line, ::testing::StartsWith(path + ": "));
      EXPECT_TRUE(std::regex_search(line, kAtByte)) << line;
    }
  }
  // The kind's own reader: a schedule with a hole, a slots log with any
  // loss refuse; a calls log reads with its losses reported.
  if (kind == "schedule") {
    try {
      (void)sim::read_schedule(path);
      ADD_FAILURE() << "a changed schedule read";
    } catch (const traces::TraceError& e) {
      EXPECT_TRUE(std::regex_search(std::string(e.what()), kAtByte));
    }
  } else if (kind == "slots") {
    SlotLogShape shape;
    try {
      for (const auto& op : read_slots(path, &shape)) (void)op;
      ADD_FAILURE() << "a changed slots log read";
    } catch (const traces::TraceError& e) {
      EXPECT_TRUE(std::regex_search(std::string(e.what()), kAtByte));
    }
  } else if (kind == "calls") {
    traces::ReadSummary tail;
    try {
      for (const auto& r : read_calls(path, &tail)) (void)r;
      EXPECT_TRUE(tail.lossy()) << "a changed calls log read as whole";
    } catch (const traces::TraceError& e) {
      EXPECT_TRUE(std::regex_search(std::string(e.what()), kAtByte));
    }
  }
}

class Mangle : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    kind_ = GetParam();
    original_ = write_kind(kind_);
    path_ = temp(kind_ + "-mutant.weft");
    spill(path_, original_);
    layout_ = layout_of(path_, original_);
    ASSERT_EQ(layout_.frames.size(), 5u);  // four frames, the end marker
    // Quiet: the trace verbs report losses on stderr.
    saved_ = std::cerr.rdbuf(sink_.rdbuf());
  }
  void TearDown() override {
    std::cerr.rdbuf(saved_);
    std::remove(path_.c_str());
  }
  void mutant(const std::string& bytes, const std::string& what) {
    if (bytes == original_) return;
    spill(path_, bytes);
    check_mutant(kind_, path_, what);
  }
  // Reads the mutant and expects every frame but `lost` (none if -1).
  void expect_frames_but(int lost, const std::string& what) {
    expect_frames_but_one_of({lost}, what);
  }
  // Reads the mutant and expects every frame but one of `lost` (-1: none):
  // a byte deleted from or inserted into a run of equal bytes could have
  // been any of them.
  void expect_frames_but_one_of(const std::set<int>& lost,
                                const std::string& what) {
    SCOPED_TRACE(kind_ + ": " + what);
    const Outcome o = read(path_);
    ASSERT_FALSE(o.refused) << o.message;
    EXPECT_TRUE(o.summary.lossy());
    const auto all = records_of(kind_);
    for (const int k : lost) {
      std::vector<Record> want;
      for (std::size_t i = 0; i < all.size(); ++i)
        if (static_cast<int>(i / kPerFrame) != k) want.push_back(all[i]);
      if (o.records != want) continue;
      EXPECT_EQ(o.summary.frames, k < 0 ? 4u : 3u);
      if (o.summary.records_lost()) {
        EXPECT_EQ(*o.summary.records_lost(), k < 0 ? 0 : kPerFrame);
      }
      return;
    }
    ADD_FAILURE() << "read " << o.records.size() << " records in "
                  << o.summary.frames << " frames, not all but one frame's";
  }
  // The frame a byte at `at` belongs to (-1: the header or end marker).
  int frame_of(std::size_t at) const {
    for (int k = 0; k < 4; ++k)
      if (at >= layout_.frames[k] && at < layout_.frames[k + 1]) return k;
    return -1;
  }
  // The frames that lose by `c` inserted at `at` (deleted if `deleted`),
  // or any place in the run of `c`s around it: -1 if a place is between
  // frames (an inserted byte there costs nothing).
  std::set<int> losers(std::size_t at, char c, bool deleted) const {
    std::size_t lo = at, hi = deleted ? at + 1 : at;
    while (lo > layout_.header && original_[lo - 1] == c) --lo;
    while (hi < original_.size() && original_[hi] == c) ++hi;
    std::set<int> out;
    for (std::size_t q = lo; q <= hi; ++q) {
      if (deleted && q == hi) break;
      const bool between =
          std::count(layout_.frames.begin(), layout_.frames.end(), q) != 0 ||
          q == original_.size();
      out.insert(!deleted && between ? -1 : frame_of(q));
    }
    return out;
  }

  std::string kind_, original_, path_;
  Layout layout_;
  std::ostringstream sink_;
  std::streambuf* saved_ = nullptr;
};

TEST_P(Mangle, EveryTruncationIsRefusedOrReadWithLosses) {
  for (std::size_t n = 0; n < original_.size(); ++n)
    mutant(original_.substr(0, n), "cut at " + std::to_string(n));
}

TEST_P(Mangle, EveryBitFlipIsFoundAndCostsOnlyItsFrame) {
  for (std::size_t at = 0; at < original_.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string m = original_;
      m[at] = static_cast<char>(m[at] ^ (1 << bit));
      const std::string what =
          "bit " + std::to_string(bit) + " of byte " + std::to_string(at);
      mutant(m, what);
      if (at < layout_.header) continue;
      // In frame k (its info or its records): the other three still read.
      expect_frames_but(frame_of(at), what);
    }
  }
}

TEST_P(Mangle, EveryHeaderByteChangedIsRefused) {
  for (std::size_t at = 0; at < layout_.header; ++at) {
    for (int v = 0; v < 256; ++v) {
      std::string m = original_;
      if (static_cast<unsigned char>(m[at]) == v) continue;
      m[at] = static_cast<char>(v);
      spill(path_, m);
      const Outcome o = read(path_);
      EXPECT_TRUE(o.refused) << kind_ << ": byte " << at << " = " << v;
      EXPECT_TRUE(std::regex_search(o.message, kAtByte)) << o.message;
    }
  }
}

TEST_P(Mangle, EveryByteDeletedOrInsertedIsFoundAndCostsOnlyItsFrame) {
  for (std::size_t at = 0; at <= original_.size(); ++at) {
    const std::string where = std::to_string(at);
    if (at < original_.size()) {
      mutant(original_.substr(0, at) + original_.substr(at + 1),
             "byte " + where + " deleted");
      if (at >= layout_.header)
        expect_frames_but_one_of(losers(at, original_[at], true),
                                 "deleted at " + where);
    }
    for (const char c : {'\0', '\x5e'}) {
      mutant(original_.substr(0, at) + c + original_.substr(at),
             "byte " + std::to_string(int{c}) + " inserted at " + where);
      if (at >= layout_.header)
        expect_frames_but_one_of(losers(at, c, false), "inserted at " + where);
    }
  }
}

TEST_P(Mangle, SwappedAndDroppedFramesAreFoundAndTheRestRead) {
  const auto& f = layout_.frames;
  auto frame = [&](int k) { return original_.substr(f[k], f[k + 1] - f[k]); };
  const std::string head = original_.substr(0, layout_.header);
  const std::string end = original_.substr(f[4]);
  for (int k = 0; k < 4; ++k) {
    // Frame k dropped.
    std::string m = head;
    for (int j = 0; j < 4; ++j)
      if (j != k) m += frame(j);
    mutant(m + end, "frame " + std::to_string(k) + " dropped");
    expect_frames_but(k, "frame " + std::to_string(k) + " dropped");
  }
  for (int k = 0; k + 1 < 4; ++k) {
    // Frames k and k+1 swapped, infos and all: one of them is out of
    // order, the other three read.
    std::string m = head;
    for (int j = 0; j < 4; ++j) m += frame(j == k ? k + 1 : j == k + 1 ? k : j);
    mutant(m + end, "frames swapped at " + std::to_string(k));
    expect_frames_but(k, "frames swapped at " + std::to_string(k));
    // Only the record frames swapped, the infos left in place.
    auto info_size = [&](int j) {
      return 8 + traces::get_le32(original_.data() + f[j] + 4);
    };
    m = head;
    for (int j = 0; j < 4; ++j) {
      const int from = j == k ? k + 1 : j == k + 1 ? k : j;
      m += frame(j).substr(0, info_size(j)) +
           frame(from).substr(info_size(from));
    }
    mutant(m + end, "record frames swapped at " + std::to_string(k));
  }
}

TEST_P(Mangle, EveryTraceVerbExitsNonZeroOnMutants) {
  // A sample (every 13th bit, every 7th cut) through verify, show, stat
  // and export: never 0, 3 when the header held.
  std::ostringstream out;
  for (std::size_t at = 0; at < original_.size(); at += 7) {
    std::string flipped = original_;
    flipped[at] = static_cast<char>(flipped[at] ^ (1 << (at % 8)));
    for (const std::string& m : {original_.substr(0, at), flipped}) {
      spill(path_, m);
      const int want = at < layout_.header ? 2 : traces::kExitLosses;
      SCOPED_TRACE(kind_ + " mutant at " + std::to_string(at));
      EXPECT_EQ(trace_verify(path_, out), want);
      EXPECT_EQ(trace_show(path_, {}, out), want);
      EXPECT_EQ(trace_stat(path_, out), want);
      if (kind_ != "calls" && kind_ != "slots") {
        EXPECT_EQ(trace_export(path_, "perfetto", "-", out), want);
      }
    }
  }
  spill(path_, original_);
  EXPECT_EQ(trace_verify(path_, out), 0);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, Mangle,
                         ::testing::Values("schedule", "events", "calls",
                                           "slots"));

TEST(Damage, AFrameDamagedInTheMiddleIsReportedWithItsOffsetAndLosses) {
  const std::string original = write_kind("events");
  const std::string path = temp("middle.weft");
  spill(path, original);
  const Layout l = layout_of(path, original);
  std::string m = original;
  const std::size_t at = l.frames[2] + 40;  // inside frame 2's records
  m[at] = static_cast<char>(m[at] ^ 4);
  spill(path, m);
  std::ostringstream out;
  EXPECT_EQ(trace_verify(path, out), traces::kExitLosses);
  const auto info = 8 + traces::get_le32(original.data() + l.frames[2] + 4);
  EXPECT_THAT(out.str(),
              ::testing::HasSubstr(
                  path + ": frame 2 of 4 damaged (checksum mismatch) at byte " +
                  std::to_string(l.frames[2] + info) + ": 5 records lost"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr(
                             path + ": 3 of 4 frames read (15 records), 5 "
                                    "records lost, the first loss at byte "));
  std::remove(path.c_str());
}

TEST(Damage, AFileCutRightAfterItsHeaderIsNotOk) {
  const std::string original = write_kind("schedule");
  const std::string path = temp("headonly.weft");
  spill(path, original);
  const Layout l = layout_of(path, original);
  spill(path, original.substr(0, l.header));
  std::ostringstream out;
  EXPECT_EQ(trace_verify(path, out), traces::kExitLosses);
  EXPECT_THAT(out.str(), ::testing::HasSubstr("no end marker"));
  EXPECT_THROW(sim::read_schedule(path), traces::TraceError);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace weft::replay
