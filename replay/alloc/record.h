// Recording a program's allocator calls: runs it with the LD_PRELOAD
// recorder and a shared-memory ring (ring.h) that this process drains into
// the calls log while the program runs and after it dies, so a SIGKILL of
// the program loses no completed call; a call in flight at the kill is
// counted, never silently dropped. The program dies with its recorder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::replay {

struct RecordResult {
  // The program's exit status as a shell gives it (128 + signal if
  // killed); 127 if it could not be run.
  int status = 0;
  bool logged = false;      // the recorder started in the program
  std::uint64_t calls = 0;  // calls written to the log
  // Calls that had taken their sequence number but were not complete when
  // the program died (killed or exited mid-call in another thread): the
  // log's sequence gaps.
  std::uint64_t lost = 0;
  // Why the log stopped being written (a full disk), if it did; the calls
  // read after that were counted in `unwritten`.
  std::string error;
  std::uint64_t unwritten = 0;
};

// Runs `argv` with the recorder `library` preloaded and writes its calls
// log to `output`; with `children`, every program its descendants exec
// writes a log of its own, OUTPUT.<pid>, from inside (those are not
// ring-backed). SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to this process
// are passed on to the program. Throws std::system_error if the program
// cannot be started.
RecordResult record_program(const std::string& output,
                            const std::vector<std::string>& argv, bool children,
                            const std::string& library);

}  // namespace weft::replay
