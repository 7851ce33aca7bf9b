// The running program's path, for finding files installed beside it and
// for printing a command that runs it again.
//
// It lives in traces/ only because traces/ is the one layer everything
// that needs it can reach: sim/ (explore's replay command), the allocator
// toolkit in replay/alloc (which must not depend on sim/), the `weft`
// command and the unsanitized replayer child. Header-only, so that none
// of them links anything new for it.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <string>

namespace weft::traces {

// From /proc/self/exe; "" if it cannot be read.
inline std::string self_executable() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<std::size_t>(n));
}

// The running program's folder, with its trailing '/'; "" if unknown.
inline std::string self_executable_dir() {
  std::string dir = self_executable();
  dir.resize(dir.rfind('/') + 1);
  return dir;
}

}  // namespace weft::traces
