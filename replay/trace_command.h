// `weft trace show|stat|verify|export`: the trace file verbs of the weft
// command. Each returns the process exit status: 0 success, 1 a damaged
// file (verify), 2 bad usage or unreadable input. Errors go to stderr and
// name the file and byte offset; progress goes to stderr on a terminal.
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
