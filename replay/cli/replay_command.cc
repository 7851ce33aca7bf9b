#include "replay/cli/replay_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "traces/format.h"
#include "traces/reader.h"

namespace weft::replay {
namespace {

// A schedule trace or a flight recording: its command, with WEFT_REPLAY
// set to the file.
int replay_schedule(const std::string& path,
                    const traces::TraceHeader& header) {
  const std::string command = header.get("command");
  if (command.empty() || command.front() == '<') {
    std::cerr << "weft replay: " << path
              << " names no command to run (metadata 'command' is '" << command
              << "'): run the program that explored it with WEFT_REPLAY="
              << path << "\n";
    return 2;
  }
  const std::string file = std::filesystem::absolute(path).string();
  setenv("WEFT_REPLAY", file.c_str(), 1);
  std::cerr << "weft replay: WEFT_REPLAY=" << file << " " << command << "\n";
  execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  std::cerr << "weft replay: cannot run /bin/sh: " << std::strerror(errno)
            << "\n";
  return 2;
}

}  // namespace

int replay_trace(const std::string& path) {
  traces::TraceHeader header;
  try {
    header = traces::TraceReader::open(path).header();
  } catch (const std::exception& e) {
    std::cerr << "weft replay: " << e.what() << "\n";
    return 2;
  }
  switch (header.kind) {
    case traces::TraceKind::kSchedule:
    case traces::TraceKind::kFlight:  // replayed by the same program
      return replay_schedule(path, header);
    case traces::TraceKind::kEvents:
      std::cerr << "weft replay: " << path
                << " is an events trace (what components did, not a "
                   "schedule): `weft trace show` prints it\n";
      return 2;
    case traces::TraceKind::kAllocLog:
      std::cerr << "weft replay: " << path
                << " is an allocator log: `weft alloc replay " << path
                << "` replays it against an allocator\n";
      return 2;
  }
  std::cerr << "weft replay: " << path << ": unknown trace kind\n";
  return 2;
}

}  // namespace weft::replay
