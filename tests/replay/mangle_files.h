// Small multi-frame trace files of each kind for the damage tests
// (mangle_test.cc, damage_report_test.cc): their records, their layout
// (where the header ends and each frame starts), and what the container
// reader makes of a file, damaged or not.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/scratch_dir.h"
#include "traces/checksum.h"
#include "traces/reader.h"
#include "traces/writer.h"

namespace weft::replay::mangle {

namespace fs = std::filesystem;
using traces::Record;
using traces::TraceKind;

constexpr std::size_t kPerFrame = 5;
constexpr std::size_t kRecords = 4 * kPerFrame;  // four frames

inline std::string temp(const std::string& name) {
  return weft::test::scratch_file("weft-mangle-" + name);
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A new file each time: ext4 flushes a file truncated and written again
// (auto_da_alloc), which would make this test wait on the disk.
inline void spill(const std::string& path, const std::string& bytes) {
  std::remove(path.c_str());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Records of each kind that every reader of that kind takes as whole.
inline std::vector<Record> records_of(const std::string& kind) {
  std::vector<Record> out;
  for (std::uint32_t i = 0; i < kRecords; ++i) {
    if (kind == "schedule") {
      traces::ChoiceRecord c{};
      c.kind = 1;
      c.strand = i % 3;
      c.count = 2 + i % 3;
      c.chosen = i % c.count;
      c.picked = c.chosen;
      c.step = i;
      out.push_back(c);
    } else if (kind == "events") {
      // Built in place: g++ 12 takes a moved EventRecord for uninitialized.
      auto& e = std::get<traces::EventRecord>(
          out.emplace_back(std::in_place_type<traces::EventRecord>));
      e.strand = i;
      e.step = i;
      e.detail = "event " + std::to_string(i);
    } else if (kind == "calls") {
      traces::AllocRecord a{};
      a.call = i % 2 ? traces::AllocCall::kFree : traces::AllocCall::kMalloc;
      a.seq = i;
      a.size = i % 2 ? 0 : 16 + i;
      a.ptr = i % 2 ? 0x1000 + 16 * (i / 2) : 0;
      a.result = i % 2 ? 0 : 0x1000 + 16 * (i / 2);
      out.push_back(a);
    } else {
      traces::SlotRecord s{};
      s.call = i % 2 ? traces::AllocCall::kFree : traces::AllocCall::kMalloc;
      s.slot = 0;
      s.size = i % 2 ? 0 : 16 + i;
      out.push_back(s);
    }
  }
  return out;
}

inline std::string write_kind(const std::string& kind) {
  const std::string path = temp(kind + ".weft");
  traces::TraceHeader h;
  h.kind = kind == "schedule" ? TraceKind::kSchedule
           : kind == "events" ? TraceKind::kEvents
                              : TraceKind::kAllocLog;
  if (kind == "calls" || kind == "slots") h.metadata = {{"form", kind}};
  traces::WriterOptions o;
  o.records_per_frame = kPerFrame;
  traces::TraceWriter w(path, h, o);
  for (const Record& r : records_of(kind)) w.append(r);
  w.close();
  return slurp(path);
}

// Where the header ends and each frame (info and records) starts, and the
// end marker's offset (the last entry).
struct Layout {
  std::size_t header = 0;
  std::vector<std::size_t> frames;  // frame k: [frames[k], frames[k+1])
};

inline Layout layout_of(const std::string& path, const std::string& bytes) {
  Layout l;
  l.header = traces::TraceReader::open(path).summary().consumed;
  std::size_t at = l.header;
  while (at < bytes.size()) {
    l.frames.push_back(at);
    const std::size_t size = 8 + traces::get_le32(bytes.data() + at + 4);
    if (traces::get_le32(bytes.data() + at) == traces::kEndMagic) break;
    traces::ByteReader in(bytes.data() + at + 8, size - 8);
    in.varint();
    in.varint();
    at += size + *in.varint();
  }
  return l;
}

// What the container reader made of a file.
struct Outcome {
  bool refused = false;  // TraceError from open() or a strict read
  std::string message;   // the refusal
  std::vector<Record> records;
  traces::ReadSummary summary;
};

inline Outcome read(const std::string& path) {
  Outcome o;
  try {
    auto r = traces::TraceReader::open(path);
    for (const Record& rec : r.records()) o.records.push_back(rec);
    o.summary = r.summary();
  } catch (const traces::TraceError& e) {
    o.refused = true;
    o.message = e.what();
  }
  return o;
}

inline const std::regex kAtByte(" at byte [0-9]+");

}  // namespace weft::replay::mangle
