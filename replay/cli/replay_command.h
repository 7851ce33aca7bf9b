// `weft replay FILE`: runs again what a trace recorded, by the trace's kind.
// A schedule trace names the command that recorded it (metadata `command`):
// it runs that command with WEFT_REPLAY=FILE, and exits with its status.
// Other kinds say which command reads them. Errors name the file (and the
// byte offset, for one that is not a readable trace) and exit 2.
#pragma once

#include <string>

namespace weft::replay {

// Returns only on an error (the exit status); on success the process
// becomes the recorded command.
int replay_trace(const std::string& path);

}  // namespace weft::replay
