// Flight recording for programs built on weft's primitives and components:
// run the program's body through flight::run() and it is recorded on real
// threads or replayed in the simulation, by the environment:
//
//   WEFT_RECORD=dir        record: the body runs in a supervised child whose
//                          per-thread rings (WEFT_RECORD_RING, default
//                          64MiB, split over WEFT_RECORD_THREADS rings,
//                          default 64) live in memory the supervisor shares;
//                          if the child fails (non-zero exit, an escaping
//                          exception or assertion, any signal, SIGKILL
//                          included) the supervisor writes them to
//                          dir/weft-flight-<pid>.trace. A run that ends well
//                          leaves nothing, unless WEFT_RECORD_ALL=1 (keep
//                          every run; rings then never wrap: what does not
//                          fit is reported as lost).
//   WEFT_REPLAY=file       replay: the body runs in the simulation driven by
//                          the recording (sim/harness/flight/replayer.h),
//                          WEFT_REPLAY_TIMES times (default 1), each run
//                          checked to end the same way and make the same
//                          schedule; WEFT_REPLAY_SCHEDULE=out writes the
//                          replayed run as a schedule trace (for `weft trace
//                          export`); WEFT_MAX_STEPS bounds each run (100000).
//                          Bad input or another build's recording:
//                          a message with the file and byte offset (or both
//                          build ids) and exit status 2.
//
// Neither set: the body runs on real threads, unrecorded.
#pragma once

#include <functional>
#include <string>

namespace weft::sim::flight {

// Runs `body` as described above and returns the process's exit status: 0
// when the body returned (and, replaying, every run ended without a
// failure), 1 when it failed, 2 for bad input; recording, the child's
// status (128 + the signal when a signal ended it).
int run(int argc, char** argv, const std::function<void()>& body);

// Writes what the recorder holds now to `path` (on demand; the rings go on
// recording). False when nothing records.
bool save(const std::string& path, const std::string& reason = "on demand");

}  // namespace weft::sim::flight
