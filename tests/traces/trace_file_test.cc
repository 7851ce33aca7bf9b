#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/traces/record_arbitrary.h"
#include "traces/generator.h"
#include "traces/reader.h"
#include "traces/writer.h"

namespace weft::traces {
namespace {

using ::testing::HasSubstr;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("weft-" + std::to_string(getpid()) + "-" + name))
      .string();
}

std::vector<Record> read_all(TraceReader& r) {
  std::vector<Record> out;
  for (auto& rec : r.records()) out.push_back(rec);
  return out;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void put_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TraceHeader header() {
  TraceHeader h;
  h.metadata = {{"seed", "42"}, {"strategy", "pct"}, {"test", "A.B"}};
  return h;
}

ChoiceRecord choice(std::uint64_t step) {
  ChoiceRecord c;
  c.kind = 2;
  c.strand = static_cast<std::uint32_t>(step % 3);
  c.count = 3;
  c.chosen = static_cast<std::uint32_t>(step % 3);
  c.picked = c.chosen;
  c.step = step;
  return c;
}

// Writes `n` choices in frames of `per_frame`; returns the file's bytes.
std::string write_choices(const std::string& path, int n,
                          std::size_t per_frame) {
  {
    TraceWriter w(path, header(), WriterOptions{per_frame, 3});
    for (int i = 0; i < n; ++i) w.append(choice(static_cast<std::uint64_t>(i)));
  }
  return file_bytes(path);
}

// --- the generator
// -------------------------------------------------------------

Generator<int> count_to(int n) {
  for (int i = 1; i <= n; ++i) co_yield i;
}

Generator<int> throws_after(int n) {
  for (int i = 1; i <= n; ++i) co_yield i;
  throw std::runtime_error("boom");
}

TEST(Generator, YieldsValuesInOrder) {
  std::vector<int> got;
  for (int v : count_to(4)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Generator, AnExceptionInTheBodyReachesTheConsumer) {
  std::vector<int> got;
  EXPECT_THROW(
      {
        for (int v : throws_after(2)) got.push_back(v);
      },
      std::runtime_error);
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

TEST(Generator, BreakingOutEarlyDestroysTheBody) {
  static int destroyed = 0;
  struct Guard {
    ~Guard() { ++destroyed; }
  };
  destroyed = 0;
  {
    auto g = []() -> Generator<int> {
      Guard guard;
      for (int i = 0;; ++i) co_yield i;
    }();
    for (int v : g)
      if (v == 3) break;
  }
  EXPECT_EQ(destroyed, 1);
}

// co_await inside a Generator must not compile.
template <class P>
concept AcceptsAwait = requires(P p) {
  p.await_transform(std::suspend_always{});
};
static_assert(!AcceptsAwait<Generator<int>::promise_type>,
              "co_await must be a compile error inside a Generator");

// --- round trips -----------------------------------------------------------

RC_GTEST_PROP(TraceFile, AnySequenceOfRecordsRoundTrips,
              (const std::vector<Record>& records)) {
  const std::size_t per_frame = *rc::gen::inRange<std::size_t>(1, 50);
  const std::string path = temp_path("roundtrip.weft");
  {
    TraceWriter w(path, header(), WriterOptions{per_frame, 1});
    for (const auto& r : records) w.append(r);
  }
  auto reader = TraceReader::open(path);
  const auto back = read_all(reader);
  std::remove(path.c_str());
  RC_ASSERT(back == records);
  RC_ASSERT(reader.summary().lost_bytes == 0u);
  RC_ASSERT(reader.header().get("seed") == "42");
}

TEST(TraceFile, SameRecordsGiveTheSameBytes) {
  const std::string a = temp_path("same-a.weft"), b = temp_path("same-b.weft");
  EXPECT_EQ(write_choices(a, 1000, 64), write_choices(b, 1000, 64));
  std::remove(a.c_str());
  std::remove(b.c_str());
}

// --- bad input ---------------------------------------------------------------

std::string open_error(const std::string& path) {
  try {
    auto r = TraceReader::open(path);
    read_all(r);
  } catch (const TraceError& e) {
    return e.what();
  }
  return "";
}

TEST(TraceReader, EmptyFileIsRefusedAtOffsetZero) {
  const std::string path = temp_path("empty.weft");
  put_bytes(path, "");
  EXPECT_EQ(open_error(path),
            path + ": empty file: not a weft trace at byte 0");
  std::remove(path.c_str());
}

TEST(TraceReader, ForeignFileIsRefusedAtOffsetZero) {
  const std::string path = temp_path("foreign.png");
  put_bytes(path, std::string("\x89PNG\r\n\x1a\n") + std::string(100, 'x'));
  EXPECT_THAT(open_error(path), HasSubstr(path + ": not a weft trace"));
  EXPECT_THAT(open_error(path), HasSubstr("at byte 0"));
  std::remove(path.c_str());
}

TEST(TraceReader, TruncatedHeaderNamesWhereItEnds) {
  const std::string path = temp_path("header.weft");
  const std::string full = write_choices(path, 10, 4);
  put_bytes(path, full.substr(0, 12));
  EXPECT_THAT(open_error(path), HasSubstr("truncated header at byte"));
  put_bytes(path, full.substr(0, 5));
  EXPECT_THAT(open_error(path), HasSubstr("truncated header at byte 5"));
  std::remove(path.c_str());
}

TEST(TraceReader, NewerMajorVersionIsRefusedNamingBothVersions) {
  const std::string path = temp_path("newer.weft");
  std::string bytes = write_choices(path, 10, 4);
  bytes[8] = 2;  // major version
  put_bytes(path, bytes);
  const std::string e = open_error(path);
  EXPECT_THAT(e, HasSubstr("format version 2.1 is newer than this weft reads "
                           "(1.1)"));
  EXPECT_THAT(e, HasSubstr("at byte 8"));
  std::remove(path.c_str());
}

TEST(TraceReader, BitFlipInAMiddleFrameIsReportedAtThatFramesOffset) {
  const std::string path = temp_path("flip.weft");
  const std::string clean = write_choices(path, 400, 100);  // 4 frames
  // Find the frames' offsets by reading the clean file frame by frame.
  const std::string good = temp_path("flip-good.weft");
  put_bytes(good, clean);
  auto reader = TraceReader::open(good);
  ASSERT_EQ(read_all(reader).size(), 400u);
  ASSERT_EQ(reader.summary().frames, 4u);
  std::remove(good.c_str());
  // Flip one bit in the middle of the file; the error names a frame start
  // at or before the flipped byte.
  std::string bad = clean;
  const std::size_t at = bad.size() / 2;
  bad[at] = static_cast<char>(bad[at] ^ 0x10);
  put_bytes(path, bad);
  std::uint64_t offset = 0;
  try {
    auto r = TraceReader::open(path);
    read_all(r);
    FAIL() << "a flipped bit went unnoticed";
  } catch (const TraceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("corrupt frame"));
    EXPECT_THAT(e.what(), HasSubstr(path + ": "));
    offset = e.offset();
  }
  EXPECT_GT(offset, 0u);
  EXPECT_LE(offset, at);
  std::remove(path.c_str());
}

TEST(TraceReader, TruncatedTailFrameIsReportedAsLostBytesNotAnError) {
  const std::string path = temp_path("tail.weft");
  const std::string full = write_choices(path, 300, 100);  // 3 frames
  // Cut the file in the middle of the last frame.
  const std::string cut = full.substr(0, full.size() - 7);
  put_bytes(path, cut);
  auto r = TraceReader::open(path);
  const auto records = read_all(r);
  EXPECT_EQ(records.size(), 200u);
  EXPECT_EQ(r.summary().frames, 2u);
  EXPECT_GT(r.summary().lost_bytes, 0u);
  EXPECT_EQ(r.summary().lost_at + r.summary().lost_bytes, cut.size());
  // Strict mode makes it an error naming the offset.
  try {
    auto strict = TraceReader::open(path, /*strict=*/true);
    read_all(strict);
    FAIL() << "strict mode accepted a truncated frame";
  } catch (const TraceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("truncated frame"));
    EXPECT_EQ(e.offset(), r.summary().lost_at);
  }
  std::remove(path.c_str());
}

// --- a writer killed mid-write
// -------------------------------------------------

TEST(TraceWriter, AWriterKilledAtRandomPointsLosesOnlyItsUnfinishedFrame) {
  const std::string path = temp_path("killed.weft");
  const std::string reference = temp_path("reference.weft");
  constexpr std::size_t kPerFrame = 8;
  WriterOptions options;
  options.records_per_frame = kPerFrame;
  options.compression_level = 3;
  // Small writes, so that most kills land inside a frame.
  options.write_chunk = 5;
  // The kill times only; fixed so a failing trial can be looked at again
  // (as far as the OS's timing allows).
  std::mt19937_64 delays(20261123);
  int torn = 0;
  constexpr int kTrials = 60;
  for (int trial = 0; trial < kTrials; ++trial) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(ready[0]);
      TraceWriter w(path, header(), options);
      const char go = 1;
      if (write(ready[1], &go, 1) != 1) _exit(2);
      for (std::uint64_t i = 0;; ++i) w.append(choice(i));
    }
    close(ready[1]);
    char go = 0;
    ASSERT_EQ(read(ready[0], &go, 1), 1);  // the header is on disk
    close(ready[0]);
    usleep(static_cast<useconds_t>(delays() % 4000));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));

    auto r = TraceReader::open(path);
    const auto records = read_all(r);
    // Whole frames only, each record in order.
    ASSERT_EQ(records.size() % kPerFrame, 0u) << "trial " << trial;
    for (std::size_t i = 0; i < records.size(); ++i)
      ASSERT_EQ(records[i], Record(choice(i))) << "trial " << trial;
    // The complete part is byte for byte what a writer of just those
    // records writes; the reported loss is exactly everything after it.
    const std::string killed = file_bytes(path);
    const std::string complete =
        write_choices(reference, static_cast<int>(records.size()), kPerFrame);
    ASSERT_LE(complete.size(), killed.size());
    ASSERT_EQ(killed.substr(0, complete.size()), complete) << "trial " << trial;
    EXPECT_EQ(r.summary().lost_bytes, killed.size() - complete.size())
        << "trial " << trial;
    if (r.summary().lost_bytes > 0) {
      EXPECT_EQ(r.summary().lost_at, complete.size()) << "trial " << trial;
      ++torn;
    }
  }
  std::printf("killed %d writers; %d left a torn frame\n", kTrials, torn);
  // Most kills land mid-frame with 5-byte writes; none at all would mean
  // the test no longer exercises a torn tail.
  EXPECT_GT(torn, 0);
  std::remove(reference.c_str());
  std::remove(path.c_str());
}

TEST(TraceWriter, FileCutAtEveryByteOfItsLastFrameReadsTheRest) {
  const std::string path = temp_path("cut.weft");
  constexpr std::size_t kPerFrame = 8;
  // The complete part reads, the loss equals what was cut from the frame.
  const std::size_t two_frames = write_choices(path, 16, kPerFrame).size();
  const std::string full = write_choices(path, 24, kPerFrame);
  ASSERT_GT(full.size(), two_frames + 1);
  for (std::size_t cut = 1; cut < full.size() - two_frames; ++cut) {
    put_bytes(path, full.substr(0, full.size() - cut));
    auto r = TraceReader::open(path);
    const auto records = read_all(r);
    EXPECT_EQ(records.size(), 16u) << "cut " << cut;
    EXPECT_EQ(r.summary().lost_at + r.summary().lost_bytes, full.size() - cut);
  }
  std::remove(path.c_str());
}

TEST(TraceReader, AMissingFrameIsReportedWhereTheNextFrameStarts) {
  const std::string path = temp_path("gap.weft");
  const std::size_t one = write_choices(path, 8, 8).size();
  const std::size_t two = write_choices(path, 16, 8).size();
  std::string full = write_choices(path, 24, 8);
  full.erase(one, two - one);  // frame 1 (its info and its records) gone
  put_bytes(path, full);
  auto r = TraceReader::open(path);
  try {
    read_all(r);
    FAIL() << "a missing frame was not noticed";
  } catch (const TraceError& e) {
    EXPECT_THAT(e.what(), HasSubstr("frame 2 where frame 1 was due"));
    EXPECT_EQ(e.offset(), one);
  }
  std::remove(path.c_str());
}

TEST(TraceReader, SomeoneElsesSkippableFrameIsSkipped) {
  const std::string path = temp_path("foreign-skippable.weft");
  const std::size_t header_size = write_choices(path, 0, 8).size();
  std::string bytes = write_choices(path, 16, 8);
  // Magic 0x184D2A50 (little-endian), payload size 3, payload "abc".
  const std::string skippable(
      "\x50\x2a\x4d\x18\x03\x00\x00\x00"
      "abc",
      11);
  bytes.insert(header_size, skippable);
  put_bytes(path, bytes);
  auto r = TraceReader::open(path);
  EXPECT_EQ(read_all(r).size(), 16u);
  EXPECT_EQ(r.summary().lost_bytes, 0u);
  std::remove(path.c_str());
}

TEST(TraceWriter, AFlushIntervalLandsRecordsWithoutFurtherAppends) {
  const std::string path = temp_path("interval.weft");
  WriterOptions options;
  options.records_per_frame = 1000;
  options.flush_interval = std::chrono::milliseconds(10);
  TraceWriter w(path, header(), options);
  for (std::uint64_t i = 0; i < 3; ++i) w.append(choice(i));
  // Poll the file while the writer stays open and idle. The bound only
  // keeps a broken flusher from hanging the suite.
  std::size_t seen = 0;
  for (int tries = 0; tries < 1000 && seen < 3; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto r = TraceReader::open(path);
    seen = read_all(r).size();
  }
  EXPECT_EQ(seen, 3u);
  EXPECT_GE(w.frames(), 1u);
  w.close();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace weft::traces
