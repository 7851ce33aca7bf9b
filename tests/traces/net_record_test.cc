// The net record (tag 9, format 2.2): any record codes and decodes back
// the same, alone and in a trace file; every cut of its bytes and an event
// number past the last is refused, not misread; and its words name the
// sockets, counts and states it carries.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/traces/record_arbitrary.h"
#include "traces/reader.h"
#include "traces/record.h"
#include "traces/writer.h"

namespace weft::traces {
namespace {

RC_GTEST_PROP(NetRecord, AnyRecordDecodesBackTheSame, (const NetRecord& n)) {
  std::string bytes;
  encode(Record(n), bytes);
  RC_ASSERT(static_cast<unsigned char>(bytes[0]) == 9u);
  ByteReader in(bytes.data(), bytes.size());
  const auto back = decode(in);
  RC_ASSERT(back.has_value());
  RC_ASSERT(std::get<NetRecord>(*back) == n);
  RC_ASSERT(in.pos() == bytes.size());
}

RC_GTEST_PROP(NetRecord, EveryCutOfItsBytesIsRefused, (const NetRecord& n)) {
  std::string bytes;
  encode(Record(n), bytes);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    ByteReader in(bytes.data(), cut);
    RC_ASSERT(!decode(in).has_value());
  }
}

RC_GTEST_PROP(NetRecord, RoundTripsThroughATraceFileAmongOtherRecords,
              (const std::vector<NetRecord>& nets,
               const std::vector<ChoiceRecord>& choices)) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("weft-net-record-" + std::to_string(::getpid()) + ".weft"))
          .string();
  std::vector<Record> written;
  for (std::size_t i = 0; i < std::max(nets.size(), choices.size()); ++i) {
    if (i < choices.size()) written.emplace_back(choices[i]);
    if (i < nets.size()) written.emplace_back(nets[i]);
  }
  {
    WriterOptions o;
    o.records_per_frame = 7;
    TraceWriter w(path, TraceHeader{}, o);
    for (const auto& r : written) w.append(r);
  }
  auto reader = TraceReader::open(path, /*strict=*/true);
  RC_ASSERT(reader.header().version_minor >= 2);
  std::vector<Record> read;
  for (const auto& r : reader.records()) read.push_back(r);
  std::remove(path.c_str());
  RC_ASSERT(read == written);
}

TEST(NetRecord, AnEventNumberPastTheLastIsRefused) {
  NetRecord n;
  n.event = NetRecord::Event::kState;
  std::string bytes;
  encode(Record(n), bytes);
  bytes[1] = static_cast<char>(NetRecord::kMaxEvent + 1);
  ByteReader in(bytes.data(), bytes.size());
  EXPECT_FALSE(decode(in).has_value());
}

TEST(NetRecord, TagEightIsStillAnUnknownTag) {
  const std::string bytes(1, '\x08');
  ByteReader in(bytes.data(), bytes.size());
  EXPECT_FALSE(decode(in).has_value());
}

TEST(NetRecord, ItsWordsNameSocketsCountsAndStates) {
  using E = NetRecord::Event;
  NetRecord n;
  n.event = E::kDeliver;
  n.socket = 3;
  n.peer = 4;
  n.bytes = 12;
  EXPECT_EQ(net_event_name(n.event), "deliver");
  EXPECT_EQ(net_text(n), "3 -> 4: 12 bytes delivered");
  n.event = E::kState;
  n.name = "conn 4";
  n.detail = "open -> closing: EOF";
  EXPECT_EQ(net_text(n), "conn 4: open -> closing: EOF");
  n.event = E::kConnect;
  n.peer = NetRecord::kNoSocket;
  n.name = "tcp:10.0.0.1:7";
  EXPECT_EQ(net_text(n), "3 to tcp:10.0.0.1:7 (server side -)");
  EXPECT_EQ(net_event_name(static_cast<E>(42)), "net-42");
}

}  // namespace
}  // namespace weft::traces
