// `weft trace show|stat|verify|export`: the trace file verbs of the weft
// command. Each returns the process exit status: 0 a clean read, 3
// (traces::kExitLosses) a read with losses (a damaged, missing or cut
// frame, or no end marker: what could be read was, and stderr says what
// was lost, with byte offsets; verify prints it), 2 bad usage or input
// that cannot be read at all (no file, not a trace, a damaged header).
// Errors name the file and byte offset; progress goes to stderr on a
// terminal.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace weft::replay {

struct ShowOptions {
  std::uint64_t limit = 0;  // records to print (0: all)
  bool forced = false;      // also print picks with a single alternative
};

int trace_show(const std::string& path, const ShowOptions& options,
               std::ostream& out);
int trace_stat(const std::string& path, std::ostream& out);
int trace_verify(const std::string& path, std::ostream& out);
// format: "perfetto" or "html"; output "" picks <path minus .weft>.json or
// .html; "-" writes to `out`.
int trace_export(const std::string& path, const std::string& format,
                 std::string output, std::ostream& out);

}  // namespace weft::replay
