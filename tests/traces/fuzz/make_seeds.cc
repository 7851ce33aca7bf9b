// Writes the seed corpus of a decoder's fuzz target (trace_decoder_fuzz.cc)
// into a directory: small multi-frame files of the current format, made by
// TraceWriter so they follow the format as it is; for net_record_fuzz
// (net), rows of encoded records as traces/record.h codes them. Usage:
//   make_seeds events|schedule|calls|slots|flight|net DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "traces/record.h"
#include "traces/writer.h"

namespace {

using namespace weft::traces;

// One of each net event, with sockets, counts and texts.
NetRecord net_record(std::uint32_t i) {
  NetRecord n;
  n.event = static_cast<NetRecord::Event>(i % (NetRecord::kMaxEvent + 1));
  n.strand = i % 3;
  n.step = i;
  n.socket = i;
  n.peer = i % 2 ? NetRecord::kNoSocket : i + 1;
  n.bytes = 100u * i;
  n.name = i % 3 ? "tcp:10.0.0.1:7" : "conn 4";
  n.detail = i % 2 ? "open -> closing: EOF" : "";
  return n;
}

// Files of 1, 3 and 10 encoded records (tag byte, then the fields).
void write_net_rows(const std::string& dir) {
  for (std::uint32_t count : {1u, 3u, 10u}) {
    std::string bytes;
    for (std::uint32_t i = 0; i < count; ++i) encode(net_record(i), bytes);
    std::ofstream(dir + "/net-" + std::to_string(count) + ".bin",
                  std::ios::binary)
        << bytes;
  }
}

void write(const std::string& path, TraceKind kind, const std::string& form,
           const std::string& what, std::size_t per_frame) {
  TraceHeader h;
  h.kind = kind;
  if (!form.empty()) h.metadata = {{"form", form}};
  WriterOptions o;
  o.records_per_frame = per_frame;
  // One calls seed as `weft alloc record` writes: stored, alloc layout.
  o.alloc_layout = o.store = what == "calls" && per_frame == 12;
  TraceWriter w(path, h, o);
  for (std::uint32_t i = 0; i < 12; ++i) {
    if (what == "events") {
      EventRecord e;
      e.kind = static_cast<EventRecord::Kind>(i % 6);
      e.strand = i % 3;
      e.peer = (i + 1) % 3;
      e.step = i;
      e.detail = "e" + std::to_string(i);
      w.append(e);
    } else if (what == "schedule") {
      if (i < 3) {
        StrandRecord s;
        s.strand = i;
        s.name = "s" + std::to_string(i);
        w.append(s);
      }
      ChoiceRecord c;
      c.kind = static_cast<std::uint8_t>(i % 16);
      c.is_value = i % 5 == 4;
      c.strand = i % 3;
      c.count = 1 + i % 4;
      c.chosen = i % c.count;
      c.picked = c.chosen;
      c.step = i;
      w.append(c);
      if (i % 3 == 1) {  // what the strand did, or where it blocked
        OpRecord op;
        op.kind = c.kind;
        op.has_value = op.is_signed = i % 2 == 0;
        op.blocks = i % 4 == 1;
        op.strand = c.strand;
        op.step = i;
        op.value = static_cast<std::uint64_t>(-static_cast<std::int64_t>(i));
        op.what =
            op.blocks ? "lock mutex 'm' held by strand 's1'" : "load atomic";
        op.where = "dir/file.cc:" + std::to_string(10 + i);
        w.append(op);
      }
      if (i % 4 == 2) w.append(net_record(i));
      if (i == 11) {
        FailureRecord f;
        f.step = i;
        f.message = "assertion failed";
        w.append(f);
      }
    } else if (what == "calls") {
      AllocRecord a;
      a.call = i % 2 ? AllocCall::kFree : AllocCall::kMalloc;
      a.thread = i % 2;
      a.seq = i;
      a.size = 16 * (i + 1);
      a.ptr = i % 2 ? 0x1000 + 64 * (i / 2) : 0;
      a.result = i % 2 ? 0 : 0x1000 + 64 * (i / 2);
      w.append(a);
    } else if (what == "flight") {
      // Two threads: main spawns thread 1, both lock object 1 and
      // read-modify-write object 2 (thread 1's try_lock fails once), main
      // reads the clock, arms a timer (object 4) that thread 1 fires,
      // and joins.
      static const FlightRecord kOps[12] = {
          {FlightOp::kSpawn, 0, 0, 0, 1},
          {FlightOp::kLock, 0, 1, 0, 0},
          {FlightOp::kAtomicRead, 0, 2, 0, 0},
          {FlightOp::kLock, 1, 1, 1, 0},
          {FlightOp::kAtomicWrite, 0, 2, 0, 0},
          {FlightOp::kClock, 0, 0, 0, 9},
          {FlightOp::kTryFail, 1, 1, 2, 0},
          {FlightOp::kAtomicWrite, 1, 2, 1, 0},
          {FlightOp::kCvWait, 0, 3, 0, 1},
          {FlightOp::kTimerArm, 0, 4, 0, 29},
          {FlightOp::kTimerFire, 1, 4, 1, 0},
          {FlightOp::kJoin, 0, 0, 0, 1}};
      w.append(kOps[i]);
    } else {
      SlotRecord s;
      s.call = i % 2 ? AllocCall::kFree : AllocCall::kMalloc;
      s.slot = 0;
      s.size = i % 2 ? 0 : 16 * (i + 1);
      w.append(s);
    }
  }
  w.close();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(
        stderr,
        "usage: make_seeds events|schedule|calls|slots|flight|net DIR\n");
    return 2;
  }
  const std::string what = argv[1], dir = argv[2];
  if (what == "net") {
    write_net_rows(dir);
    return 0;
  }
  const TraceKind kind = what == "events"     ? TraceKind::kEvents
                         : what == "schedule" ? TraceKind::kSchedule
                         : what == "flight"   ? TraceKind::kFlight
                                              : TraceKind::kAllocLog;
  const std::string form = kind == TraceKind::kAllocLog ? what : "";
  for (std::size_t per_frame : {3, 12})
    write(dir + "/" + what + "-" + std::to_string(per_frame) + ".weft", kind,
          form, what, per_frame);
  return 0;
}
