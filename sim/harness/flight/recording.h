// Flight recordings as files: the arena of sim/flight.h written out as a
// trace of kind kFlight (traces/flight_records.h; one FlightRecord per
// logged operation, each thread's in program order), and read back, whole
// or up to its first damage, for a replay. The header carries the build
// identity (a recording replays only on the build that made it), the
// command, why it was written and what the rings lost.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/flight.h"
#include "traces/flight_records.h"
#include "traces/format.h"

namespace weft::sim::flight {

// Writes what `arena` holds to `path` (atomically: the file appears whole).
// `reason` says why ("exit status 1", "killed by signal 9", "on demand");
// `command` is the program's command line. Returns the number of
// operations written. Throws std::system_error if the file cannot be
// written.
std::uint64_t write_recording(Arena& arena, const std::string& path,
                              const std::string& reason,
                              const std::string& command);

struct ThreadOps {
  std::vector<traces::FlightRecord> ops;  // in program order
  // Operations of this thread the ring lost before the first one kept
  // (it wrapped): such a thread's operations are not checked in a replay.
  std::uint64_t dropped = 0;
};

struct Recording {
  std::string path;
  traces::TraceHeader header;
  std::map<std::uint32_t, ThreadOps> threads;
  std::uint64_t operations = 0;
  std::uint64_t clock_base = 0;  // the earliest clock reading or timer
                                 // deadline: time zero
  // What the file lost ("" if nothing): damage found by the reader, or
  // the rings' own losses recorded in the header.
  std::string losses;
};

// Reads a flight recording. Throws traces::TraceError (file and byte
// offset) on a file that is not a trace, another kind of trace, a damaged
// header or no readable frame; damage after the first frame is reported in
// `losses` and the operations before it are kept.
Recording read_recording(const std::string& path);

// Why `recording` must not replay here ("recorded by build X, and this is
// build Y ..."), or "" when it may.
std::string refuse_reason(const Recording& recording);

}  // namespace weft::sim::flight
