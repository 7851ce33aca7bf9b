// The alloc layout (traces/alloc_frames.h) and stored frames: any
// allocator calls round-trip, stored or compressed; recorded-like calls
// take a few bytes each; damage and malformed records are reported.
#include "traces/alloc_frames.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/traces/record_arbitrary.h"
#include "traces/reader.h"
#include "traces/writer.h"

namespace weft::traces {
namespace {

using ::testing::HasSubstr;

std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("weft-alloc-frames-" + std::to_string(getpid()) + "-" + name))
      .string();
}

TraceHeader alloc_header() {
  TraceHeader h;
  h.kind = TraceKind::kAllocLog;
  h.metadata = {{"form", "calls"}};
  return h;
}

WriterOptions alloc_options(std::size_t per_frame, bool store) {
  WriterOptions o;
  o.records_per_frame = per_frame;
  o.alloc_layout = true;
  o.store = store;
  return o;
}

std::vector<AllocRecord> read_allocs(const std::string& path,
                                     ReadSummary* summary = nullptr) {
  auto reader = TraceReader::open(path);
  std::vector<AllocRecord> out;
  for (auto& r : reader.records()) out.push_back(std::get<AllocRecord>(r));
  if (summary != nullptr) *summary = reader.summary();
  return out;
}

RC_GTEST_PROP(AllocLayout, AnyAllocatorCallsRoundTripStoredOrCompressed,
              (const std::vector<AllocRecord>& records, bool store)) {
  const std::size_t per_frame = *rc::gen::inRange<std::size_t>(1, 50);
  const std::string path = temp("roundtrip.weft");
  {
    TraceWriter w(path, alloc_header(), alloc_options(per_frame, store));
    for (const auto& r : records) w.append(r);
  }
  ReadSummary summary;
  const auto back = read_allocs(path, &summary);
  std::remove(path.c_str());
  RC_ASSERT(back == records);
  RC_ASSERT(!summary.lossy());
}

// Calls as a recorder logs them: consecutive sequence numbers, one thread
// mostly, blocks near the last one, a time step of a few hundred ns.
std::vector<AllocRecord> recorded_like(std::size_t n) {
  std::vector<AllocRecord> out;
  std::vector<std::uint64_t> live;
  std::uint64_t t = 1000, next = 0x55d0c0de0000;
  for (std::size_t i = 0; i < n; ++i) {
    AllocRecord r;
    r.seq = i;
    r.thread = i % 50 == 0 ? 1 : 0;
    r.timed = true;
    r.time_ns = t += 100 + (i * 7919) % 300;
    if (live.size() > 64 && i % 2 == 1) {
      r.call = AllocCall::kFree;
      r.ptr = live[(i * 31) % live.size()];
      live[(i * 31) % live.size()] = live.back();
      live.pop_back();
    } else {
      r.size = 600 + i % 2000;
      r.result = next += 16 + r.size;
      live.push_back(r.result);
    }
    out.push_back(r);
  }
  return out;
}

TEST(AllocLayout, RecordedLikeCallsTakeAtMostEightBytesEachStored) {
  const std::string path = temp("small.weft");
  const auto records = recorded_like(200000);
  {
    TraceWriter w(path, alloc_header(), alloc_options(16384, true));
    for (const auto& r : records) w.append(r);
  }
  const auto bytes = std::filesystem::file_size(path);
  EXPECT_EQ(read_allocs(path), records);
  std::remove(path.c_str());
  EXPECT_LE(bytes, 8 * records.size()) << bytes << " bytes";
}

TEST(AllocLayout, AStoredFrameOfManyBlocksReadsBack) {
  // 100,000 records in one frame: some 600 KB of content, five raw
  // blocks of at most 128 KiB.
  const std::string path = temp("blocks.weft");
  const auto records = recorded_like(100000);
  {
    TraceWriter w(path, alloc_header(), alloc_options(1 << 20, true));
    for (const auto& r : records) w.append(r);
  }
  EXPECT_GT(std::filesystem::file_size(path), 5u << 17);
  EXPECT_EQ(read_allocs(path), records);
  std::remove(path.c_str());
}

TEST(AllocLayout, AnotherKindOfRecordIsRefusedByTheWriter) {
  const std::string path = temp("other.weft");
  TraceWriter w(path, alloc_header(), alloc_options(16, true));
  EXPECT_THROW(w.append(Record(SlotRecord{})), std::logic_error);
  w.append(Record(AllocRecord{}));
  w.close();
  EXPECT_EQ(read_allocs(path).size(), 1u);
  std::remove(path.c_str());
}

TEST(AllocLayout, AByteChangedInAStoredFrameIsReportedAsDamageThere) {
  const std::string path = temp("damaged.weft");
  const auto records = recorded_like(3000);
  {
    TraceWriter w(path, alloc_header(), alloc_options(1000, true));
    for (const auto& r : records) w.append(r);
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Somewhere in the middle frame's records (each frame is some 5 KB).
  bytes[bytes.size() / 2] ^= 0x40;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ReadSummary summary;
  const auto back = read_allocs(path, &summary);
  std::remove(path.c_str());
  ASSERT_EQ(summary.damage.size(), 1u);
  EXPECT_EQ(summary.damage[0].frame, 1u);
  EXPECT_EQ(summary.damage[0].records_lost, 1000u);
  EXPECT_THAT(summary.damage[0].what, HasSubstr("checksum mismatch"));
  EXPECT_EQ(back.size(), 2000u);
}

std::string content_of(const std::vector<AllocRecord>& records) {
  AllocFrameEncoder e;
  for (const auto& r : records) e.add(r);
  std::string content;
  e.finish(content);
  return content;
}

TEST(AllocLayout, CutOrTrailingRecordBytesAreMalformed) {
  const auto records = recorded_like(10);
  const std::string content = content_of(records);
  // Byte 0: the count (10), byte 1: the marker.
  ASSERT_EQ(static_cast<std::uint8_t>(content[1]), kAllocMarker);
  AllocFrameDecoder d;
  d.start(content.data() + 2, content.size() - 3, records.size());
  AllocRecord r;
  bool ok = true;
  for (std::size_t i = 0; i < records.size() && ok; ++i) ok = d.next(r);
  EXPECT_FALSE(ok && d.finish());
  const std::string longer = content + '\0';
  d.start(longer.data() + 2, longer.size() - 2, records.size());
  for (std::size_t i = 0; i < records.size(); ++i) ASSERT_TRUE(d.next(r));
  EXPECT_FALSE(d.finish());
  EXPECT_STREQ(d.error(), "trailing bytes after the alloc records");
  EXPECT_FALSE(d.next(r));
}

// Decodes `records` records from `content` (count and marker included):
// how many came before the decoder refused, and whether it finished.
std::pair<std::size_t, bool> decode(const std::string& content,
                                    std::size_t records) {
  AllocFrameDecoder d;
  d.start(content.data() + 2, content.size() - 2, records);
  AllocRecord r;
  std::size_t decoded = 0;
  while (decoded < records && d.next(r)) ++decoded;
  const bool finished = decoded == records && d.finish();
  if (!finished) RC_ASSERT(std::string(d.error()).size() > 0u);
  return {decoded, finished};
}

RC_GTEST_PROP(AllocLayout, AnyCutOfTheRecordsIsReported,
              (const std::vector<AllocRecord>& records)) {
  RC_PRE(!records.empty());
  const std::string content = content_of(records);
  const auto cut = *rc::gen::inRange<std::size_t>(2, content.size());
  RC_ASSERT(!decode(content.substr(0, cut), records.size()).second);
  RC_ASSERT(decode(content, records.size()).second);
}

// Damaged content (past the frame's checksums, as a frame made with right
// CRCs over wrong bytes would be): the decoder reports it (saying what)
// or yields some records, and never reads outside the content (every
// read is bounded; the sanitized builds would catch a stray one).
RC_GTEST_PROP(AllocLayout, AnyDamageToAllocContentIsReportedOrHarmless,
              (const std::vector<AllocRecord>& records)) {
  RC_PRE(!records.empty());
  std::string content = content_of(records);
  const auto changes = *rc::gen::inRange(1, 4);
  for (int i = 0; i < changes; ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(2, content.size());
    content[at] = static_cast<char>(*rc::gen::arbitrary<std::uint8_t>());
  }
  decode(content, records.size());
}

}  // namespace
}  // namespace weft::traces
